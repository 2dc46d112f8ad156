import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "For local use: create a superuser 'admin' with a random password and print it once. "
        "Does nothing when the user exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "ensure_local_admin is for local development (DJANGO_DEBUG=1). "
                "On a server, run: python manage.py createsuperuser"
            )
        User = get_user_model()
        login = "http://127.0.0.1:8000/admin/"
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Staff login: {login} as '{username}' with the password printed when it was "
                f"created (forgotten? python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created staff user '{username}' with password: {password}\n"
                f"Log in at {login} (this password is shown only once)."
            )
        )
