"""The tests' hands on the provider, as its administrator's would be: put a person with their
groups, register SKAM as a client. Served on 127.0.0.1 only, by the test run's own server."""

import json

from django.contrib.auth.models import Group, User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oidc_provider.models import Client, ResponseType


@csrf_exempt
@require_POST
def person(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    user, _created = User.objects.update_or_create(
        username=data["username"],
        defaults={
            "first_name": data.get("first_name", ""),
            "last_name": data.get("last_name", ""),
            "email": data.get("email", ""),
            "is_active": data.get("is_active", True),
        },
    )
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data["groups"]])
    return JsonResponse({"sub": str(user.pk)})


@csrf_exempt
@require_POST
def client(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    registered, _created = Client.objects.update_or_create(
        client_id=data["client_id"],
        defaults={
            "name": "SKAM",
            "client_type": "confidential",
            "client_secret": data["client_secret"],
            "jwt_alg": "RS256",
            "require_consent": False,
            "_redirect_uris": "\n".join(data["redirect_uris"]),
            "_post_logout_redirect_uris": "\n".join(data["post_logout_redirect_uris"]),
            "_scope": "openid email profile groups",
        },
    )
    registered.response_types.set([ResponseType.objects.get(value="code")])
    return JsonResponse({"client_id": registered.client_id})
