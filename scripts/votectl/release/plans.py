"""Decide what a promotion or rollback changes, refusing with one clear line whatever is unsafe."""

from __future__ import annotations

from votectl.errors import VotectlError
from votectl.release import history
from votectl.release.images import (
    IMAGE_PREFIX,
    SERVICES,
    Change,
    ImageRef,
    check_digest,
    check_env,
    images_path,
)
from votectl.release.publish import Proposal
from votectl.release.workspace import Workspace
from votectl.repo import Repo


def source_of(env: str) -> str | None:
    """The env that feeds `env` (the one before it in the promotion order); None for the first env, which
    takes digests from builds."""
    return Repo.current().env(env).source


def check_services(services: list[str], all_services: bool) -> list[str]:
    if all_services and services:
        raise VotectlError("name services or pass --all, not both")
    if all_services:
        return list(SERVICES)
    if not services:
        raise VotectlError("name the service(s) to promote, or pass --all")
    for service in services:
        if service not in SERVICES:
            raise VotectlError(f"unknown service {service!r}: expected one of {', '.join(SERVICES)}")
    return list(dict.fromkeys(services))


def _check_route(to_env: str, from_env: str | None, digest: str | None) -> str | None:
    check_env(to_env)
    if from_env is not None:
        check_env(from_env)
    if from_env == to_env:
        raise VotectlError(f"cannot promote {to_env} into itself: --from and --to are both {to_env}")
    expected = source_of(to_env)
    if expected is None:
        if from_env is not None:
            raise VotectlError(f"{to_env} is the first env, nothing is promoted into it from {from_env}")
        if digest is None:
            raise VotectlError(
                f"promoting into {to_env} needs --digest sha256:... ({to_env} has no source env)"
            )
        return None
    if from_env not in (None, expected):
        raise VotectlError(f"{to_env} is promoted only from {expected}, not from {from_env}")
    return expected


def require_digest(env: str, service: str, ref: ImageRef, where: str) -> None:
    """Pinned envs (staging, prod) run exactly what was tested: a digest, never a movable tag."""
    if Repo.current().env(env).pinned_images and not ref.digest:
        raise VotectlError(f"{where} has only the tag {ref.tag!r} for {service}; {env} takes digests only")


def plan_promotion(
    ws: Workspace,
    services: list[str],
    to_env: str,
    from_env: str | None = None,
    digest: str | None = None,
) -> Proposal:
    source = _check_route(to_env, from_env, digest)
    if digest is not None:
        check_digest(digest)
        if len(services) != 1:
            raise VotectlError("--digest promotes one service at a time")
    current = _refs_with(ws, to_env, services)
    source_refs = _refs_with(ws, source, services) if source else {}
    changes = []
    for service in services:
        if source is None:
            new = ImageRef(digest=digest)
        else:
            new = source_refs[service]
            require_digest(to_env, service, new, source)
            if digest is not None and new.digest != digest:
                raise VotectlError(
                    f"{digest} is not in {source} for {service} ({source} runs {new.digest}); "
                    f"promote it into {source} first"
                )
        if new != current[service]:
            changes.append(Change(service, current[service], new))
    return Proposal(kind="promote", env=to_env, changes=tuple(changes), source=source)


def plan_rollback(
    ws: Workspace, env: str, service: str | None, to_digest: str | None = None, steps: int = 1
) -> Proposal:
    """Restore, per service, the exact reference it had `steps` changes ago (or where it ran `to_digest`)."""
    check_env(env)
    if service is not None:
        check_services([service], False)
    if to_digest is not None:
        check_digest(to_digest)
        if service is None:
            raise VotectlError("--to needs a service: a digest belongs to one image")
    if steps < 1:
        raise VotectlError("--steps must be 1 or more")
    log = history.entries(ws.git, env, service, ws.head)
    if not log:
        raise VotectlError(f"no promotion of {service or 'any service'} in the history of {env}")
    services = [service] if service else [e.service for e in log if e.commit == log[0].commit]
    current = _refs_with(ws, env, services)
    changes = []
    for name in services:
        own = [e for e in log if e.service == name]
        rev = _restore_point(own, name, env, to_digest, steps)
        restored = _refs_with(ws, env, [name], rev)[name]
        require_digest(env, name, restored, f"{env} at {rev[:12]}")
        if restored != current[name]:
            changes.append(Change(name, current[name], restored))
    return Proposal(kind="rollback", env=env, changes=tuple(changes), rollback_of=log[0].commit)


def _restore_point(
    own: list[history.Entry], service: str, env: str, to_digest: str | None, steps: int
) -> str:
    """The revision whose images file holds the reference to restore."""
    if to_digest is None:
        if len(own) < steps:
            raise VotectlError(f"{service} has only {len(own)} recorded change(s) in {env}, not {steps}")
        return f"{own[steps - 1].commit}^"
    for entry in own:
        if entry.new == to_digest:
            return entry.commit
        if entry.old == to_digest:
            return f"{entry.commit}^"
    raise VotectlError(f"{to_digest} never ran for {service} in {env} according to its history")


def _refs_with(ws: Workspace, env: str, services: list[str], rev: str | None = None) -> dict[str, ImageRef]:
    refs = ws.refs(env, rev)
    for service in services:
        if service not in refs:
            raise VotectlError(f"{images_path(env)} has no entry for {IMAGE_PREFIX}{service}")
    return refs
