"""Declarative catalog of augmentation steps: what each does, its parameters and their ranges.

The GUI generates its step editors from ``AUGMENTATIONS``; ``validate_steps`` checks a project's
``augmentation`` list against it and fills in defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from studio.core.params import ParamError, ParamSpec


class AugmentationError(ValueError):
    """An augmentation list that cannot be built (unknown step, bad parameter, wrong data kind)."""


@dataclass(frozen=True)
class Augmentation:
    """A step type. ``images_only`` steps need NHWC images; ``mixes_labels`` steps blend two
    samples and their labels, so the loss must accept soft (one-hot, blended) targets; ``moves_pixels``
    steps move what is where, so box targets are moved with the pixels."""

    type: str
    title: str
    help: str
    params: tuple[ParamSpec, ...]
    images_only: bool = True
    mixes_labels: bool = False
    moves_pixels: bool = False


_FILL = ParamSpec(
    "fill_mode", "choice", "reflect",
    "How pixels uncovered by the move are filled: mirrored content, a black border, "
    "the nearest edge pixel, or wrapped around.",
    choices=("reflect", "constant", "nearest", "wrap"),
)

AUGMENTATIONS: dict[str, Augmentation] = {
    a.type: a
    for a in (
        Augmentation(
            "flip", "Flip",
            "Mirrors images at random. Only use it when a mirrored sample is still a valid example "
            "of its class (a cat, a shoe) - never for digits or text, where it changes the meaning.",
            (ParamSpec("mode", "choice", "horizontal", "Which mirror axes may be used.",
                      choices=("horizontal", "vertical", "horizontal_and_vertical")),),
            moves_pixels=True,
        ),
        Augmentation(
            "rotation", "Rotation",
            "Turns each image by a small random angle so the model stops relying on exact "
            "orientation; keep it small when orientation carries meaning (6 vs 9).",
            (ParamSpec("factor", "float", 0.05, "Largest turn as a fraction of a full circle "
                      "(0.05 = 18 degrees either way).", 0.0, 0.5), _FILL),
            moves_pixels=True,
        ),
        Augmentation(
            "zoom", "Zoom",
            "Zooms in or out at random, teaching the model that an object's size in the frame "
            "does not change what it is.",
            (ParamSpec("factor", "float", 0.1, "Largest zoom as a fraction of the image size.",
                      0.0, 0.9), _FILL),
            moves_pixels=True,
        ),
        Augmentation(
            "translation", "Translation",
            "Shifts images sideways and up/down so the model recognises objects wherever they sit, "
            "not just in the centre.",
            (ParamSpec("factor", "float", 0.1, "Largest shift as a fraction of width and height.",
                      0.0, 0.5), _FILL),
            moves_pixels=True,
        ),
        Augmentation(
            "random_crop", "Random crop",
            "Pads the image with a black border, then cuts a window of the original size at a "
            "random place: a cheap shift that never stretches pixels.",
            (ParamSpec("padding", "int", 4, "Border width in pixels added before cropping.", 1, 64),),
            moves_pixels=True,
        ),
        Augmentation(
            "contrast", "Contrast",
            "Stretches or flattens the difference between dark and light areas, so lighting and "
            "camera differences matter less.",
            (ParamSpec("factor", "float", 0.2, "Largest contrast change (0.2 = 80% to 120%).",
                      0.0, 1.0),),
        ),
        Augmentation(
            "brightness", "Brightness",
            "Makes images lighter or darker at random, so the model does not learn the exposure "
            "of the training photos.",
            (ParamSpec("factor", "float", 0.1, "Largest shift as a fraction of the value range.",
                      0.0, 1.0),),
        ),
        Augmentation(
            "gaussian_noise", "Gaussian noise",
            "Adds random grain to every value. The model must look at overall patterns instead of "
            "single exact values; also works on tables of numbers.",
            (ParamSpec("stddev", "float", 0.05, "Noise strength as a fraction of the value range.",
                      0.0, 1.0),),
            images_only=False,
        ),
        Augmentation(
            "random_erasing", "Random erasing",
            "Blanks out a random rectangle, forcing the model to use several parts of an object "
            "instead of one telltale patch.",
            (ParamSpec("probability", "float", 0.5, "Chance that an image gets a rectangle erased.",
                      0.0, 1.0),
             ParamSpec("max_area", "float", 0.25, "Largest erased area as a fraction of the image.",
                      0.02, 1.0)),
        ),
        Augmentation(
            "mixup", "MixUp",
            "Blends pairs of samples and their labels. Training on in-between examples smooths "
            "the decision boundaries and curbs over-confidence. Classification only.",
            (ParamSpec("alpha", "float", 0.2, "Beta-distribution shape: small values keep most "
                      "blends close to one of the two samples.", 0.05, 2.0),),
            images_only=False, mixes_labels=True,
        ),
        Augmentation(
            "cutmix", "CutMix",
            "Pastes a rectangle from another sample and mixes the labels by pasted area, combining "
            "the benefits of erasing and MixUp. Classification only.",
            (ParamSpec("factor", "float", 1.0, "Upper bound of the Beta shape drawn per batch: "
                      "small values paste either tiny patches or nearly whole images.", 0.1, 2.0),),
            mixes_labels=True,
        ),
    )
}


def validate_steps(steps: list[dict] | None) -> list[dict]:
    """Return ``steps`` with defaults filled in, or raise ``AugmentationError`` naming the problem.

    Args:
        steps: the project's augmentation list; None means no steps.

    Returns:
        New dicts, one per step, holding ``type`` and every param of its spec (checked values).

    Raises:
        AugmentationError: not a list, a step without ``type``, an unknown type, an unknown param or
            a param value out of range.
    """
    if steps is None:
        return []
    if not isinstance(steps, list):
        raise AugmentationError("augmentation must be a list of steps like {\"type\": \"flip\"}")
    checked = []
    for position, step in enumerate(steps, 1):
        if not isinstance(step, dict) or "type" not in step:
            raise AugmentationError(f"augmentation step {position} needs a \"type\" key")
        spec = AUGMENTATIONS.get(step["type"])
        if spec is None:
            raise AugmentationError(
                f"augmentation step {position}: unknown type {step['type']!r}; "
                f"use one of {', '.join(AUGMENTATIONS)}"
            )
        known = {p.name: p for p in spec.params}
        unknown = set(step) - set(known) - {"type"}
        if unknown:
            raise AugmentationError(
                f"{spec.type} step: unknown parameter(s) {', '.join(sorted(unknown))}; "
                f"it takes {', '.join(known) or 'no parameters'}"
            )
        full = {"type": spec.type}
        for param in spec.params:
            try:
                full[param.name] = param.check(step.get(param.name, param.default))
            except ParamError as exc:
                raise AugmentationError(f"{spec.type} step: {exc}") from None
        checked.append(full)
    return checked


def needs_soft_labels(steps: list[dict] | None) -> bool:
    """True when a step blends labels (MixUp, CutMix): train with categorical, not sparse, loss.

    Raises:
        AugmentationError: ``steps`` is invalid (see ``validate_steps``).
    """
    return any(AUGMENTATIONS[s["type"]].mixes_labels for s in validate_steps(steps))
