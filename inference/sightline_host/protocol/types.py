"""Generated from src-shared/protocol/host-messages.ts by `npm run gen:protocol`. Do not edit."""

from typing import Literal, NotRequired, TypedDict

PROTOCOL_VERSION = 1
MAX_IMAGE_BYTES = 41943040
MAX_IMAGE_PIXELS = 33177600
MAX_FRAME_BYTES = 67108864
MAX_OBSERVES_IN_FLIGHT = 2
MAX_POINT_QUERY_CHARS = 500
MAX_POINTS_PER_ANSWER = 16
MAX_POINT_LABEL_CHARS = 256
MAX_POINT_ANSWER_CHARS = 8192

ElementKind = Literal["text", "button", "icon", "text_field", "checkbox", "radio", "dropdown", "menu_item", "tab", "link", "toggle", "slider", "scrollbar", "window_control", "other"]
TelemetrySourceKind = Literal["nvml", "system", "replay"]


class ImageBox(TypedDict):
    x: float
    y: float
    width: float
    height: float


class EncodedImage(TypedDict):
    format: Literal["png", "jpeg"]
    data: str


class RawImage(TypedDict):
    format: Literal["rgba", "bgra"]
    width: int
    height: int
    data: NotRequired[str]


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
    image: EncodedImage | RawImage
    min_confidence: NotRequired[float]


class Point(TypedDict):
    type: Literal["point"]
    id: str
    image: EncodedImage | RawImage
    query: str
    max_points: NotRequired[int]


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


class Element(TypedDict):
    id: int
    kind: ElementKind
    text: str
    box: ImageBox
    confidence: float


class ObserveResultTimingsMs(TypedDict):
    decode: float
    ocr: float
    detect: float
    merge: float


class ObserveResult(TypedDict):
    type: Literal["observe_result"]
    id: str
    image_width: int
    image_height: int
    lines: list[TextLine]
    elements: list[Element]
    timings_ms: ObserveResultTimingsMs


class ImagePoint(TypedDict):
    x: float
    y: float
    label: NotRequired[str]


class PointResult(TypedDict):
    type: Literal["point_result"]
    id: str
    points: list[ImagePoint]
    text: str
    image_width: int
    image_height: int


class SubscribeTelemetry(TypedDict):
    type: Literal["subscribe_telemetry"]
    id: str
    interval_ms: NotRequired[int]


class UnsubscribeTelemetry(TypedDict):
    type: Literal["unsubscribe_telemetry"]
    id: str


class GpuProcess(TypedDict):
    pid: int
    used_bytes: int | None


class GpuTelemetry(TypedDict):
    index: int
    name: str
    uuid: str
    memory_used_bytes: int
    memory_total_bytes: int
    utilization_percent: float | None
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    sm_clock_mhz: float | None
    mem_clock_mhz: float | None
    processes: list[GpuProcess]


class SystemMemory(TypedDict):
    memory_used_bytes: int
    memory_total_bytes: int


class ModelMemory(TypedDict):
    role: str
    model_id: str
    device: str
    bytes: int


class Telemetry(TypedDict):
    type: Literal["telemetry"]
    id: str
    source: TelemetrySourceKind
    reason: NotRequired[str]
    time_ms: float
    gpus: list[GpuTelemetry]
    system: SystemMemory
    models: list[ModelMemory]


class TelemetryStopped(TypedDict):
    type: Literal["telemetry_stopped"]
    id: str


class PlanVram(TypedDict):
    type: Literal["plan_vram"]
    id: str
    profile: str


class PlannerLayout(TypedDict):
    model_id: str
    tensor: int
    pipeline: int
    context: int
    batch: int
    kv_dtype: str
    gpus: list[int]
    stage_layers: list[int]


class PlannedShare(TypedDict):
    role: str
    model_id: str
    weights_bytes: int
    kv_cache_bytes: int
    activations_bytes: int
    workspace_bytes: int
    total_bytes: int
    detail: str


class PlannedGpu(TypedDict):
    index: int
    name: str
    total_bytes: int
    free_bytes: int
    shares: list[PlannedShare]
    cuda_context_bytes: int
    comm_bytes: int
    fragmentation_bytes: int
    used_bytes: int
    headroom_bytes: int
    fits: bool


class VramPlanPlacementsItem(TypedDict):
    role: str
    gpus: list[int]


class VramPlan(TypedDict):
    type: Literal["vram_plan"]
    id: str
    profile: str
    gpus_from: TelemetrySourceKind
    no_gpu_reason: NotRequired[str]
    outcome: Literal["fits", "fits_with_changes", "does_not_fit"]
    verdict: str
    requested: PlannerLayout | None
    requested_problems: list[str]
    chosen: PlannerLayout | None
    changes: list[str]
    gpus: list[PlannedGpu]
    placements: list[VramPlanPlacementsItem]
    unplaced: list[str]
    cpu: list[PlannedShare]
    lines: list[str]


class ListModels(TypedDict):
    type: Literal["list_models"]
    id: str


class ModelEntry(TypedDict):
    model_id: str
    name: str
    role: str
    source: Literal["hub", "package"]
    state: Literal["present", "missing", "partial", "incomplete", "installed", "not_installed"]
    size_bytes: int | None
    detail: str
    profiles: list[str]
    command: str


class ModelList(TypedDict):
    type: Literal["model_list"]
    id: str
    models: list[ModelEntry]


class PullModel(TypedDict):
    type: Literal["pull_model"]
    id: str
    model_id: str


class CancelPull(TypedDict):
    type: Literal["cancel_pull"]
    id: str
    model_id: str


class PullProgress(TypedDict):
    type: Literal["pull_progress"]
    id: str
    model_id: str
    phase: Literal["resolve", "download", "verify", "done"]
    file: str | None
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    percent: float


class PullResult(TypedDict):
    type: Literal["pull_result"]
    id: str
    model_id: str
    already_present: bool
    revision: str | None
    downloaded_bytes: int
    path: str
    message: str


class PullCancelResult(TypedDict):
    type: Literal["pull_cancel_result"]
    id: str
    model_id: str
    cancelled: bool


class ErrorMessage(TypedDict):
    type: Literal["error"]
    id: str | None
    code: Literal["bad_request", "unknown_type", "unsupported_protocol", "image_too_large", "bad_image", "model_unavailable", "busy", "telemetry_unavailable", "unknown_profile", "unknown_model", "offline", "download_failed", "checksum_mismatch", "package_model", "pull_in_progress", "pull_cancelled", "internal"]
    message: str
    command: NotRequired[str]


ClientMessage = Hello | Ping | Observe | Point | SubscribeTelemetry | UnsubscribeTelemetry | PlanVram | ListModels | PullModel | CancelPull
HostMessage = HelloOk | Pong | ObserveResult | PointResult | Telemetry | TelemetryStopped | VramPlan | ModelList | PullProgress | PullResult | PullCancelResult | ErrorMessage
