"""A tiny journey for CLI tests: click the button a random number of times."""


def journey(page, rng):
    page.goto(page.url.split("?")[0].replace("form.html", "second.html"))
    for _ in range(rng.randint(1, 3)):
        page.click("#hello")
    page.wait_for_timeout(200)
