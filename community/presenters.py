"""The JSON shapes of the community API: a post as the public sees it, a comment."""

from django.urls import reverse

from creations.models import Creation
from creations.presenters import media_url, moment

from .models import PostComment


def post_as_json(post: Creation, *, liked: bool) -> dict:
    """A public post: no owner-only fields (cost, status history, actions)."""
    return {
        "id": str(post.id),
        "url": reverse("post", args=[post.id]),
        "author": post.owner.get_username(),
        "type": post.kind,
        "prompt": post.prompt,
        "caption": post.caption,
        "media_url": getattr(post, "media_src", None) or media_url(post, "media") or None,
        "poster_url": getattr(post, "poster_src", None) or media_url(post, "poster") or None,
        "width": post.width,
        "height": post.height,
        "duration_seconds": post.duration_seconds,
        "published_at": moment(post.first_published_at or post.published_at),
        "like_count": post.like_count,
        "liked": liked,
        "comment_count": post.comment_count,
    }


def posts_as_json(posts: list[Creation]) -> list[dict]:
    """A page's posts; each carries `liked` (community.selectors.with_viewer_state)."""
    return [post_as_json(post, liked=getattr(post, "liked", False)) for post in posts]


def comment_as_json(comment: PostComment, *, viewer) -> dict:
    return {
        "id": str(comment.id),
        "author": comment.author.get_username(),
        "text": comment.text,
        "created_at": moment(comment.created_at),
        "can_delete": comment.can_delete(viewer),
    }
