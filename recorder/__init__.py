"""Capture: record browser sessions into the store.

    from recorder import SessionStore, record
    store = SessionStore("sessionheat.db")
    with record("http://127.0.0.1:8000/", store=store, viewport=(1280, 800)) as session:
        session.page.click("text=Buy")
"""

from plumbing.store import SessionStore

from recorder.contexts import ContextRecording
from recorder.journeys import JourneyPlan, JourneyRun, load_journey, record_journeys
from recorder.session import RecordedSession, record, recorder_init_script

__all__ = [
    "ContextRecording",
    "JourneyPlan",
    "JourneyRun",
    "RecordedSession",
    "SessionStore",
    "load_journey",
    "record",
    "record_journeys",
    "recorder_init_script",
]
