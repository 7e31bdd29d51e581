from .dialogue_urls import urlpatterns as dialogue_patterns
from .web_urls import urlpatterns as web_patterns

app_name = "skills"
# Dialogue routes first: the generic component routes would otherwise match them.
urlpatterns = [*dialogue_patterns, *web_patterns]
