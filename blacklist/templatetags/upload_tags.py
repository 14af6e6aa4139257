from django import template

from blacklist.forms import UploadForm

register = template.Library()


@register.simple_tag
def upload_form() -> UploadForm:
    """The CSV upload form of the Add tab, whichever view renders the tab; its ids are its own,
    apart from the hand-entry form's checkboxes on the same page."""
    return UploadForm(auto_id="id_upload_%s")
