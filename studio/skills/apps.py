from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "studio.skills"
    label = "skills"
    verbose_name = "Skills"
