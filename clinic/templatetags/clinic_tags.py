from django import template

register = template.Library()

_SELECTS = {"select", "selectmultiple"}


@register.filter
def bs_widget(field):
    """Render a bound field's widget with Bootstrap classes and ARIA error wiring."""
    widget = field.field.widget
    kind = getattr(widget, "input_type", None) or widget.__class__.__name__.lower()
    css = "form-select" if kind in _SELECTS else "form-control"
    attrs = {"class": f"{widget.attrs.get('class', '')} {css}".strip()}
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.id_for_label}_errors"
    return field.as_widget(attrs=attrs)
