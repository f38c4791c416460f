"""Shared fixtures for the lesson tests: the course, run once per test session."""

from __future__ import annotations

import pytest

from lessons.loader import load_course


@pytest.fixture(scope="session")
def course():
    return load_course()


@pytest.fixture(scope="session")
def lesson_by_id(course):
    return {lesson.id: lesson for lesson in course}
