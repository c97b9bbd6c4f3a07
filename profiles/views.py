from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .forms import SignupForm
from .services import creator_signup

User = get_user_model()


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("feed")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = creator_signup(
            username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            return redirect(next_url)
        return redirect("create")
    return render(request, "registration/signup.html", {"form": form})


def profile(request: HttpRequest, username: str) -> HttpResponse:
    creator = get_object_or_404(User, username=username, is_active=True)
    is_owner = request.user == creator
    tab = "drafts" if is_owner and request.GET.get("tab") == "drafts" else "posts"
    return render(
        request, "profiles/profile.html", {"creator": creator, "is_owner": is_owner, "tab": tab}
    )
