"""Sample dialogue pages (placeholder; being written)."""

from django.http import HttpResponse


def dialogue_list_view(request, skill_id):
    return HttpResponse("todo")
