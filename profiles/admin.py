from django.contrib import admin

from .forms import AdminLoginForm

# Staff accounts can move tokens: their log-in is throttled like everybody's.
admin.site.login_form = AdminLoginForm
