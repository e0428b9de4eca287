"""Pure Python: no Flask, no database. The rules of the product, unit- and property-tested."""
