"""The test client posting a form as a browser does, for the in-process benches.

A browser sends a form without a file as application/x-www-form-urlencoded (as the load bench's
locust does); Django's test client sends multipart/form-data, whose parser cost ≈ 10 % of the
counter lookup's CPU in process (cProfile, 6 December 2026): a cost no user's request pays."""

from urllib.parse import urlencode

from django.test import Client

FORM = "application/x-www-form-urlencoded"


class BrowserClient(Client):
    def post(self, path, data=None, content_type=None, **extra):
        if content_type is None and isinstance(data, dict):
            return super().post(path, urlencode(data, doseq=True), content_type=FORM, **extra)
        if content_type is None:
            return super().post(path, data, **extra)
        return super().post(path, data, content_type=content_type, **extra)
