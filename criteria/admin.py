from django.contrib import admin

from criteria.models import USP


@admin.register(USP)
class USPAdmin(admin.ModelAdmin):
    list_display = ["name", "since", "retired_on"]
    search_fields = ["name"]
