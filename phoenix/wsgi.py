import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phoenix.settings")

from phoenix.fast_polls import FastPolls  # noqa: E402 (after the settings module is named)

# Polls that find nothing new are answered before Django (phoenix/fast_polls.py).
application = FastPolls(get_wsgi_application())
