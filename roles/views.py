from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .groups import ROLES, assign, role_of

can_manage = permission_required("roles.manage_roles", raise_exception=True)


@require_GET
@can_manage
def user_list(request):
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    rows = [(user, role_of(user)) for user in users]
    return render(request, "roles/list.html", {"rows": rows, "roles": list(ROLES)})


@require_POST
@can_manage
def set_role(request, pk):
    user = get_object_or_404(get_user_model(), pk=pk)
    role = request.POST.get("role", "")
    if user.is_superuser or (role and role not in ROLES):
        messages.warning(request, "Superusers may do everything; their role is not set here. Nothing was changed.")
        return redirect("roles:list")
    assign(user, role or None)
    messages.success(request, f"{user.get_username()} now has {role or 'no role'}.")
    return redirect("roles:list")
