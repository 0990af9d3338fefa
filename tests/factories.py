"""Factories for the register. ``UserFactory(role=Role.KAM)`` puts the user in the role's group."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    Segment,
    TeamRole,
    User,
)
from criteria.models import USP

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n:04d} LLC")
    registration_number = factory.Sequence(lambda n: f"77{n:08d}")
    segment = Segment.MID_MARKET
    industry = "Metallurgy"
    region = "Moscow"


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountTeamMember

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamRole.KAM


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientNeed

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Need {n}")
    weight = 5


class FigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientFigure

    client = factory.SubFactory(ClientFactory)
    period = datetime.date(2026, 7, 1)
    revenue = Decimal("1000000.00")
    gross_margin = Decimal("250000.00")
    potential_revenue = Decimal("5000000.00")
    share_of_wallet = Decimal("30.00")


class USPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = USP

    name = factory.Sequence(lambda n: f"USP {n}")
    since = datetime.date(2020, 1, 1)
