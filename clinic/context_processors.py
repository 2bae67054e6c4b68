from .roles import Role


def clinic(request):
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {
        "current_role": role,
        "Role": {r.name: r for r in Role},
    }
