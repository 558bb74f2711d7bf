"""accounts.py on both engines: two owners stepping down at once leave one; roles are case-blind."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from interactiveai.server.accounts import MembershipError, change_role, list_members, remove_member
from interactiveai.server.tenancy import add_membership, create_user


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_owners_leaving_at_once_leave_one_owner(engine: Any, project: Any, change: str) -> None:
    owners = [create_user(engine, f"owner{i}@example.com", "a long password") for i in range(2)]
    for user_id in owners:
        add_membership(engine, user_id, project.id, role="OWNER")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def step_down(user_id: str) -> None:
        barrier.wait()
        try:
            if change == "demote":
                change_role(engine, project.id, user_id, "VIEWER", actor_role="OWNER", actor_is_admin=False)
            else:
                remove_member(engine, project.id, user_id, actor_role="OWNER", actor_is_admin=False)
            outcomes.append("done")
        except MembershipError:
            outcomes.append("refused")

    threads = [threading.Thread(target=step_down, args=(user_id,)) for user_id in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["done", "refused"]
    assert [m.role for m in list_members(engine, project.id)].count("OWNER") == 1


def test_a_lower_case_owner_row_still_counts_as_the_last_owner(engine: Any, project: Any) -> None:
    user_id = create_user(engine, "legacy@example.com", "a long password")
    add_membership(engine, user_id, project.id, role="owner")
    with pytest.raises(MembershipError, match="at least one owner"):
        remove_member(engine, project.id, user_id, actor_role=None, actor_is_admin=True)
