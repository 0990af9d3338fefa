"""governance's pages, one list per context; every URL keeps its name under ``governance:``."""

from governance.committee.urls import urlpatterns as committee
from governance.kpis.urls import urlpatterns as kpis
from governance.record.urls import urlpatterns as record
from governance.shell.urls import urlpatterns as shell

app_name = "governance"

urlpatterns = [*committee, *shell, *kpis, *record]
