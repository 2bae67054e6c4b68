"""Body areas treated in the practice, shared by courses, consultations and prices."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BodyArea(models.TextChoices):
    FACE = "face", _("Face")
    NECK = "neck", _("Neck")
    DECOLLETE = "decollete", _("Décolleté")
    SCALP = "scalp", _("Scalp")
    ARMS = "arms", _("Upper arms")
    ABDOMEN = "abdomen", _("Abdomen")
    FLANKS = "flanks", _("Flanks")
    BACK = "back", _("Back")
    BUTTOCKS = "buttocks", _("Buttocks")
    HIPS = "hips", _("Hips")
    OUTER_THIGHS = "outer_thighs", _("Outer thighs")
    INNER_THIGHS = "inner_thighs", _("Inner thighs")
    KNEES = "knees", _("Knees")
    CALVES = "calves", _("Calves and ankles")
