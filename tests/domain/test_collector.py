"""The cycle collector paused around bulk jobs, and resumed after them."""

from __future__ import annotations

import gc
import threading

import pytest

from tracker.services import collector


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_paused_bodies_nest_and_the_collector_resumes_after_the_last():
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_resumes_when_the_body_raises():
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_overlapping_jobs_in_two_threads_keep_it_paused_until_both_end():
    inside, release = threading.Event(), threading.Event()

    def other_job():
        with collector.paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_job)
    with collector.paused():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other thread's job still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_as_a_decorator_each_call_pauses_anew():
    @collector.paused()
    def job():
        return gc.isenabled()

    assert job() is False and gc.isenabled()
    assert job() is False and gc.isenabled()
