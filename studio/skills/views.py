"""Web studio pages (placeholder; being written)."""

from django.http import HttpResponse


def skill_list_view(request):
    return HttpResponse("todo")


def skill_detail_view(request, skill_id):
    return HttpResponse("todo")


def component_list_view(request, skill_id, slug):
    return HttpResponse("todo")
