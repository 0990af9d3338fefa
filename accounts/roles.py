"""The five roles of SKAM, as Django groups, and the permissions each one carries.

A role is a group whose name is the role's value. The groups are created by a migration; the
permissions are granted after every ``migrate`` (``roles_sync``), because permissions of apps
added later only exist once their migrations have run.
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMITTEE_CHAIR = "committee_chair", _("Committee chair")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    KAM = "kam", _("Key-account manager")
    DIRECTOR = "director", _("Director")
    ADMINISTRATOR = "administrator", _("Administrator")


COMMITTEE_ROLES = frozenset({Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER})
# The roles the company's identity provider may give and take at a sign-in (accounts/sso.py):
# never a seat or the chair, which follow the committee's decisions, nor the administrator,
# whom SKAM appoints; ``SSO_MAPPABLE_ROLES`` in the settings names the same.
SSO_ROLES = frozenset({Role.KAM, Role.DIRECTOR})

_READ_REGISTER = (
    "accounts.view_client",
    "accounts.view_all_clients",
    "accounts.view_clientneed",
    "accounts.view_clientfigure",
    "accounts.view_accountteammember",
    "criteria.view_usp",
    "criteria.view_needcoverage",
    "criteria.view_rulerversion",
    "criteria.view_evaluation",
    "criteria.view_evaluationrun",
    "criteria.view_reviewitem",
    "criteria.view_strategicfitrating",
)
# The committee proposes and votes; directors and the administrator follow its work.
_FOLLOW_COMMITTEE = (
    "governance.view_mandate",
    "governance.view_departmentrequest",
    "governance.view_exceptionrequest",
    "governance.view_committeemember",
    "governance.view_proposal",
    "governance.view_decision",
    "governance.view_vote",
    "governance.view_incident",
    "governance.view_situationtype",
    "governance.view_kpi",
    "governance.view_kpitarget",
    "governance.view_kpientry",
    "governance.view_dashboard",
    "governance.add_kpientry",
    "governance.view_budget",
    "governance.view_budgetspend",
)
_SIT_ON_COMMITTEE = (
    "governance.change_exceptionrequest",
    "governance.add_proposal",
    "governance.change_proposal",
    "governance.add_vote",
    "governance.add_recusal",
    "governance.change_incident",
    "governance.add_absence",
    "governance.view_absence",
    "governance.add_kpitarget",
    "governance.change_kpitarget",
    "governance.delete_kpitarget",
    "governance.add_budget",
    "governance.change_budget",
    # Drafting mandates, on the committee's drafting page; the vote puts one in force.
    "governance.add_mandate",
    "governance.change_mandate",
    # The committee reads the tamper-evident record of everything it governs.
    "governance.view_recordentry",
)
# The committee keeps the ruler: coverage of needs, drafts of new versions, fit ratings, runs.
_KEEP_RULER = (
    "criteria.add_needcoverage",
    "criteria.change_needcoverage",
    "criteria.delete_needcoverage",
    "criteria.add_rulerversion",
    "criteria.change_rulerversion",
    "criteria.add_strategicfitrating",
    "criteria.start_evaluationrun",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.COMMITTEE_CHAIR: (
        *_READ_REGISTER,
        *_KEEP_RULER,
        *_FOLLOW_COMMITTEE,
        *_SIT_ON_COMMITTEE,
        "governance.close_proposal",
    ),
    Role.COMMITTEE_MEMBER: (*_READ_REGISTER, *_KEEP_RULER, *_FOLLOW_COMMITTEE, *_SIT_ON_COMMITTEE),
    Role.DIRECTOR: (*_READ_REGISTER, *_FOLLOW_COMMITTEE),
    # A KAM sees only the accounts they own or work in a team on (``clients_visible_to``) and
    # keeps those clients' needs current; master data and figures belong to the administrator.
    Role.KAM: (
        "accounts.view_client",
        "accounts.view_clientneed",
        "accounts.add_clientneed",
        "accounts.change_clientneed",
        "accounts.delete_clientneed",
        "accounts.view_clientfigure",
        "accounts.view_accountteammember",
        "criteria.view_usp",
        "criteria.view_needcoverage",
        "criteria.view_evaluation",
        "criteria.view_rulerversion",
        "governance.view_own_mandate",
        "governance.add_exceptionrequest",
        "governance.add_budgetspend",
        "governance.add_departmentrequest",
        "governance.add_incident",
        "governance.view_situationtype",
        "governance.view_own_kpis",
    ),
    Role.ADMINISTRATOR: (
        *_READ_REGISTER,
        *_KEEP_RULER,
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "accounts.add_client",
        "accounts.change_client",
        "accounts.delete_client",
        "accounts.import_register",
        "accounts.view_importbatch",
        "accounts.add_clientneed",
        "accounts.change_clientneed",
        "accounts.delete_clientneed",
        "accounts.add_clientfigure",
        "accounts.change_clientfigure",
        "accounts.delete_clientfigure",
        "accounts.add_accountteammember",
        "accounts.change_accountteammember",
        "accounts.delete_accountteammember",
        "criteria.add_usp",
        "criteria.change_usp",
        *_FOLLOW_COMMITTEE,
        "governance.add_departmentobligation",
        "governance.change_departmentobligation",
        "governance.view_escalationtier",
        "governance.add_relationshipmethod",
        "governance.change_relationshipmethod",
        "governance.add_situationtype",
        "governance.change_situationtype",
        "governance.view_absence",
        "governance.add_kpi",
        "governance.change_kpi",
        # Failed sign-ins and lock-outs: read them, lift one (delete the attempt).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
        "governance.view_outgoingmail",  # the outbox, read-only
        # Webhooks: endpoints registered, changed, paused and removed; the delivery log read,
        # a delivery resent. Nobody else touches them (the committee included).
        "governance.view_webhookendpoint",
        "governance.add_webhookendpoint",
        "governance.change_webhookendpoint",
        "governance.delete_webhookendpoint",
        "governance.view_webhookdelivery",
        "governance.resend_webhookdelivery",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        "django_celery_beat.change_crontabschedule",
    ),
}


def roles_sync() -> None:
    """Create the role groups and grant each exactly the permissions listed above.

    Idempotent; connected to ``post_migrate`` so it runs after every ``migrate``.
    """
    every = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, codes in ROLE_PERMISSIONS.items():
        missing = sorted(set(codes) - every.keys())
        if missing:
            raise ImproperlyConfigured(f"Role {role} lists unknown permissions: {missing}")
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([every[code] for code in codes])
