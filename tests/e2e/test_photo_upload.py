"""A practitioner drops photos of marked injection sites (one file is not a photo), sees which
were kept, then compares the area over time."""

import pytest
from playwright.sync_api import expect

from consultations.models import Photo
from tests.e2e.pages import log_in
from tests.factories import PatientFactory
from tests.fixtures.clinical import camera_jpeg, give_photo_consent
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_practitioner_uploads_photos_and_compares_them(
    new_page, screenshot, practitioner_user, front_desk
):
    patient = PatientFactory()
    give_photo_consent(patient, front_desk)
    page = new_page()
    log_in(page, practitioner_user.email, PASSWORD)

    page.goto(f"/patients/{patient.pk}/photos/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add injection-site photos")
    page.get_by_label("Area").select_option("abdomen")
    page.locator("#id_view").select_option("front")
    page.get_by_label("Injection sites marked").check()
    page.locator("#id_photos").set_input_files(
        [
            {"name": "before.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()},
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"<html>no</html>"},
            {
                "name": "marked.jpg",
                "mimeType": "image/jpeg",
                "buffer": camera_jpeg(colour=(120, 160, 200)),
            },
        ]
    )
    expect(page.locator("[data-photo-list] li")).to_have_count(3)
    screenshot(page, "photos-upload-chosen")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_test_id("upload-error")).to_contain_text("notes.jpg")
    expect(page.get_by_test_id("upload-error")).to_contain_text("not an image")
    expect(page.get_by_label("Area")).to_have_value("abdomen")
    assert Photo.objects.filter(patient=patient).count() == 2
    screenshot(page, "photos-upload-one-refused")

    page.get_by_role("link", name="Photos", exact=True).click()
    expect(page.get_by_test_id("timeline-photo")).to_have_count(2)
    expect(page.get_by_test_id("side-left").locator("img")).to_be_visible()
    # The images really load through the protected view.
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("side-right").locator("img").evaluate("i => i.naturalWidth") > 0
    screenshot(page, "photos-compare")
