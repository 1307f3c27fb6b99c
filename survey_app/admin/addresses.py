"""The public-address check of the request showing a campaign, letters or poster page."""

from flask import current_app, request

from survey_app.services.public_address import AddressProblem, check_public_address


def address_problems() -> list[AddressProblem]:
    """Problems residents would have opening ``PUBLIC_BASE_URL``, including a mismatch
    with the address this page was requested at."""
    config = current_app.config
    return check_public_address(config["PUBLIC_BASE_URL"], request_host=request.host,
                                request_scheme=request.scheme,
                                lan_ok=config["PUBLIC_URL_LAN_ONLY"])
