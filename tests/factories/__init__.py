"""The suite's factory_boy factories, one module per app; import them from here."""

from tests.factories.patients import (
    ConsentTemplateFactory,
    MedicalHistoryFactory,
    PatientFactory,
    signature_data_url,
)

__all__ = [
    "ConsentTemplateFactory",
    "MedicalHistoryFactory",
    "PatientFactory",
    "signature_data_url",
]
