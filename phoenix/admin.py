"""What the admin classes of several apps share."""


class ViewOnlyAdminMixin:
    """Staff read these rows in the admin; they change only through their app's services
    (and the admin's own actions that call them), never through an edit form."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
