from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

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
        if not User.objects.filter(username="admin").exists():
            admin = User.objects.create_superuser("admin", "admin@localhost", password)
            account_open(user=admin)
        self.stdout.write(f"Demo creator: {username} / {password}   Staff: admin / {password}")
