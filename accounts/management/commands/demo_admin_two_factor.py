from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts import twofactor

User = get_user_model()


class Command(BaseCommand):
    help = (
        "Give the demo staff user `admin` (create_demo_user) two-factor sign-in, which staff "
        "need (PHOENIX_STAFF_REQUIRE_2FA), and print its key and recovery codes, once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        admin = User.objects.filter(username=username, is_staff=True).first()
        if admin is None or twofactor.is_enabled(admin):
            return
        secret, codes = twofactor.demo_two_factor(admin)
        self.stdout.write(
            f"{username}'s two-factor key (add it to an authenticator app): {secret}\n"
            f"{username}'s recovery codes (each works once): {' '.join(codes)}"
        )
