"""What the browser journeys share: the two screen sizes and logging in through the page."""

PHONE = {"width": 390, "height": 844}


LAPTOP = {"width": 1366, "height": 850}


def log_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
