"""Forms of the resident survey.

The questions themselves come from the questionnaire definition and are checked by
``questionnaires.validate_answers``; this form carries what every survey post has: the CSRF
token, the form instance id and which button was pressed.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp

UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


class SurveyAnswerForm(FlaskForm):
    instance_id = HiddenField(validators=[DataRequired(), Regexp(UUID4)])
    larger_text = SubmitField(_l("Larger text"))
    normal_text = SubmitField(_l("Normal text"))
    submit = SubmitField(_l("Submit answers"))
    save = SubmitField(_l("Save and continue later"))

    def only_csrf_failed(self) -> bool:
        """True when the answers are fine to keep and only the CSRF token was refused."""
        return set(self.errors) == {"csrf_token"}
