# The Celery app is loaded with Django so that tasks are queued through it (``celery -A studio``).
from .celery import app as celery_app

__all__ = ("celery_app",)
