"""The test client posting a form as a browser does, for the in-process benches.

A browser sends a form without a file as application/x-www-form-urlencoded (as the load bench's
locust does); Django's test client sends multipart/form-data, whose parser cost ≈ 10 % of the
counter lookup's CPU in process (cProfile, 6 December 2026): a cost no user's request pays."""

from urllib.parse import urlencode

from django.test import Client
from django.test.client import MULTIPART_CONTENT

FORM = "application/x-www-form-urlencoded"


class BrowserClient(Client):
    def post(self, path, data=None, content_type=None, **extra):
        if content_type is None and isinstance(data, dict):
            data, content_type = urlencode(data, doseq=True), FORM
        return super().post(path, data, content_type=content_type or MULTIPART_CONTENT, **extra)
