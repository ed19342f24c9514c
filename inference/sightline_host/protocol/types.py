"""Generated from src-shared/protocol/host-messages.ts by `npm run gen:protocol`. Do not edit."""

from typing import Literal, NotRequired, TypedDict

PROTOCOL_VERSION = 1
MAX_IMAGE_BYTES = 41943040
MAX_IMAGE_PIXELS = 33177600
MAX_FRAME_BYTES = 67108864
MAX_OBSERVES_IN_FLIGHT = 2


class ImageBox(TypedDict):
    x: float
    y: float
    width: float
    height: float


class EncodedImage(TypedDict):
    format: Literal["png", "jpeg"]
    data: str


class Hello(TypedDict):
    type: Literal["hello"]
    id: str
    protocol: int
    client: str


class Ping(TypedDict):
    type: Literal["ping"]
    id: str


class Observe(TypedDict):
    type: Literal["observe"]
    id: str
    image: EncodedImage
    min_confidence: NotRequired[float]


class HelloOk(TypedDict):
    type: Literal["hello_ok"]
    id: str
    protocol: int
    host: str
    capabilities: list[str]


class Pong(TypedDict):
    type: Literal["pong"]
    id: str


class TextLine(TypedDict):
    text: str
    box: ImageBox
    confidence: float


class ObserveResultTimingsMs(TypedDict):
    decode: float
    ocr: float


class ObserveResult(TypedDict):
    type: Literal["observe_result"]
    id: str
    image_width: int
    image_height: int
    lines: list[TextLine]
    timings_ms: ObserveResultTimingsMs


class ErrorMessage(TypedDict):
    type: Literal["error"]
    id: str | None
    code: Literal["bad_request", "unknown_type", "unsupported_protocol", "image_too_large", "bad_image", "model_unavailable", "busy", "internal"]
    message: str


ClientMessage = Hello | Ping | Observe
HostMessage = HelloOk | Pong | ObserveResult | ErrorMessage
