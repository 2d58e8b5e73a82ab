"""How to build union A's object for each parameterised URL of the activities app (see
site/tests/test_url_access.py)."""

import datetime as dt
from typing import Any

from django.utils import timezone

from gonghui.activities import services
from gonghui.activities.models import Activity, Certificate, Course, Session
from gonghui.activities.tests.factories import handler_of, make_activity, make_course
from gonghui.site.testing import World


def _course(world: World) -> Course:
    course = Course.objects.filter(organization=world.union_a).first()
    if course is None:
        course = make_course(world.union_a, threshold=1)
        services.course_signup(user=world.member_a.user, member=world.member_a, course=course)
    return course


def _session(world: World) -> Session:
    course = _course(world)
    session = course.sessions.first()
    if session is None:
        session = services.sessions_create(
            actor=handler_of(world.union_a),
            course=course,
            data=services.SessionsInput(
                topic="焊接安全", first_day=timezone.localdate(), start=dt.time(0, 0), end=dt.time(23, 59), weeks=1
            ),
        )[0]
    return session


def _certificate(world: World) -> Certificate:
    certificate = Certificate.objects.filter(member=world.member_a).first()
    if certificate is None:
        session = _session(world)
        services.checkin_by_staff(actor=handler_of(world.union_a), session=session, member=world.member_a)
        certificate = services.certificates_issue(actor=handler_of(world.union_a), course=session.course)[0]
    return certificate


def _activity(world: World) -> Activity:
    activity = Activity.objects.filter(organization=world.union_a).first()
    if activity is None:
        activity = make_activity(world.union_a)
        services.activity_signup(user=world.member_a.user, member=world.member_a, activity=activity)
    return activity


def plan_pk(world: World) -> dict[str, Any]:
    return {"pk": _course(world).plan_id}


def course_pk(world: World) -> dict[str, Any]:
    return {"pk": _course(world).pk}


def session_pk(world: World) -> dict[str, Any]:
    return {"pk": _session(world).pk}


def activity_pk(world: World) -> dict[str, Any]:
    return {"pk": _activity(world).pk}


def certificate_pk(world: World) -> dict[str, Any]:
    return {"pk": _certificate(world).pk}


def checkin_token(world: World) -> dict[str, Any]:
    return {"token": _session(world).checkin_token}


URL_OBJECTS = {
    "activities:plan": plan_pk,
    "activities:course": course_pk,
    "activities:course_export": course_pk,
    "activities:session": session_pk,
    "activities:activity": activity_pk,
    "activities:activity_export": activity_pk,
    "activities:h5_course": course_pk,
    "activities:h5_activity": activity_pk,
    "activities:h5_checkin": checkin_token,
    "activities:h5_certificate": certificate_pk,
}
