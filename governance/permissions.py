"""The names of governance's permissions, one constant each, for ``permission_required``,
``has_perm`` and the API's ``read_perms``. A leaf: it imports nothing, so every context may use
it. The roles that hold each permission are listed in ``accounts/roles.py``; templates ask
``perms.governance.<codename>`` by the same codenames.
"""

# The committee: proposals, votes, decisions and meetings.
VIEW_PROPOSAL = "governance.view_proposal"
ADD_PROPOSAL = "governance.add_proposal"
# Who holds it keeps the committee's work: withdraws proposals, keeps meetings, declares interests.
CHANGE_PROPOSAL = "governance.change_proposal"
CLOSE_PROPOSAL = "governance.close_proposal"
ADD_RECUSAL = "governance.add_recusal"
# The committee's own: casting votes; who holds it reads named votes under every policy.
ADD_VOTE = "governance.add_vote"
# Who holds it follows the committee: the decision register, the drift panel, policy, meetings.
VIEW_DECISION = "governance.view_decision"

# The management shell: mandates, exception requests, budgets, departments, incidents, absences.
VIEW_MANDATE = "governance.view_mandate"
# A KAM's own mandate, and through it their own requests, budgets and spending.
VIEW_OWN_MANDATE = "governance.view_own_mandate"
# Drafting a mandate (a new one, or a change to the one in force): the committee's, never the
# administrator's; nobody drafts their own (``governance.shell.drafting.may_draft``).
ADD_MANDATE = "governance.add_mandate"
VIEW_EXCEPTION_REQUEST = "governance.view_exceptionrequest"
ADD_EXCEPTION_REQUEST = "governance.add_exceptionrequest"
VIEW_BUDGET = "governance.view_budget"
ADD_BUDGET = "governance.add_budget"
VIEW_BUDGET_SPEND = "governance.view_budgetspend"
ADD_BUDGET_SPEND = "governance.add_budgetspend"
VIEW_DEPARTMENT_REQUEST = "governance.view_departmentrequest"
ADD_DEPARTMENT_REQUEST = "governance.add_departmentrequest"
VIEW_SITUATION_TYPE = "governance.view_situationtype"
VIEW_INCIDENT = "governance.view_incident"
ADD_INCIDENT = "governance.add_incident"
CHANGE_INCIDENT = "governance.change_incident"
VIEW_ABSENCE = "governance.view_absence"
ADD_ABSENCE = "governance.add_absence"

# The tamper-evident record: the committee reads it.
VIEW_RECORD = "governance.view_recordentry"

# KPIs and dashboards.
VIEW_KPI = "governance.view_kpi"
VIEW_KPI_TARGET = "governance.view_kpitarget"
CHANGE_KPI_TARGET = "governance.change_kpitarget"
ADD_KPI_ENTRY = "governance.add_kpientry"
VIEW_DASHBOARD = "governance.view_dashboard"
VIEW_OWN_KPIS = "governance.view_own_kpis"

# Webhooks: the administrator resends a delivery from the log.
RESEND_WEBHOOK_DELIVERY = "governance.resend_webhookdelivery"
