URL_OBJECTS = {
    "organizations:detail": lambda w: {"pk": w.union_a.pk},
    "organizations:create_child": lambda w: {"pk": w.union_a.pk},
    "organizations:role_grant": lambda w: {"pk": w.union_a.pk},
    "organizations:staff_create": lambda w: {"pk": w.union_a.pk},
    "organizations:role_revoke": lambda w: {
        "pk": w.union_a.pk,
        "assignment_pk": w.staff_a.role_assignments.filter(organization=w.union_a).values_list("pk", flat=True)[0],
    },
}
