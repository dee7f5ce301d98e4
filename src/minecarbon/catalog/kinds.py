"""The kinds of raw data a workspace accepts (a light module: the CLI reads it for its help)."""

from __future__ import annotations

#: What ``minecarbon import KIND PATH`` accepts: kind → (中文, English description).
RAW_KINDS: dict[str, tuple[str, str]] = {
    "boundary": ("采矿权范围", "mining-right boundary polygon"),
    "influence": ("影响范围", "user-drawn influence boundary polygon"),
    "damage": ("损毁范围", "mining damage polygons (type, year)"),
    "plan": ("拟开采范围", "planned mining polygons (type, planned year)"),
    "reclamation": ("复垦范围", "reclamation polygons (year)"),
    "disturbance": ("其他扰动", "non-mining disturbance polygons (type, year)"),
    "scene": ("遥感影像", "satellite scene (GeoTIFF; or the provider's .tar / .SAFE.zip)"),
    "dem": ("数字高程模型", "digital elevation model (GeoTIFF)"),
    "plots": ("样地", "plot table or polygons"),
    "trees": ("每木检尺", "tree list (CSV/XLSX)"),
    "tls": ("地面激光点云", "terrestrial laser scan (LAS/LAZ)"),
    "als": ("机载激光点云", "airborne laser scan (LAS/LAZ)"),
    "climate": ("气象数据", "annual climate series (CSV)"),
    "samples": ("训练样本", "land-cover / species training samples"),
    "reference": ("参考样本", "interpreted reference points for area estimation (trend)"),
    "zones": ("统计分区", "user polygons for zonal statistics"),
    "models": ("生物量模型", "biomass model table (CSV)"),
    "landcover": ("土地覆被", "annual land-cover / forest-mask product (GeoTIFF, --year)"),
    "other": ("其他", "any other supporting file"),
}
