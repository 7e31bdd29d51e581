import factory
from django.contrib.auth import get_user_model

from studio.skills import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Skill

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Skill {n}")
    description = "A skill made by a factory."
