from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "studio.runtime"
    label = "runtime"
    verbose_name = "Runtime and test console"
