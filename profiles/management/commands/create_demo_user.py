from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.twofactor import demo_two_factor
from profiles.services import creator_signup
from tokens.services import account_open

User = get_user_model()


class Command(BaseCommand):
    help = "Create the demo creator (and a staff superuser) for local use; prints credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="phoenix-demo")

    def handle(self, *args, username, password, **options):
        if not User.objects.filter(username=username).exists():
            creator_signup(username=username, password=password)
        self.stdout.write(f"Demo creator: {username} / {password}   Staff: admin / {password}")
        if not User.objects.filter(username="admin").exists():
            admin = User.objects.create_superuser("admin", "admin@localhost", password)
            account_open(user=admin)
            # Staff need two-factor sign-in (PHOENIX_STAFF_REQUIRE_2FA): the demo admin has it
            # from the start, with a key to put in an authenticator app and recovery codes,
            # printed this once.
            secret, codes = demo_two_factor(admin)
            self.stdout.write(
                f"admin's two-factor key (add it to an authenticator app): {secret}\n"
                f"admin's recovery codes (each works once): {' '.join(codes)}"
            )
