"""The report's words for the title, section titles, common phrases and sections 1–5.

Part of :data:`minecarbon.report.texts.TEXTS` (key → (Chinese, English)); the content builders
read them only through :func:`minecarbon.report.texts.tr`.
"""

from __future__ import annotations

__all__ = ["FIELD_TEXTS"]

#: key → (Chinese, English): title page, section titles, common words, sections 1–5.
FIELD_TEXTS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ title page
    "title": ("煤炭矿区森林地上碳储量监测与评估报告",
              "Monitoring and assessment of forest above-ground carbon in a coal-mining area"),
    # ------------------------------------------------------------------ section titles
    "sec.site": ("矿林复合区基本情况", "The mine–forest area"),
    "sec.mining": ("矿产资源开发基本情况", "Mining development"),
    "sec.plots_layout": ("监测范围与监测点布设", "Monitoring extent and plot layout"),
    "sec.plot_agc": ("样地森林地上碳储量监测", "Plot above-ground carbon"),
    "sec.models": ("模型构建与模型优选", "Model building and model selection"),
    "sec.inversion": ("森林地上碳储量反演结果", "Above-ground carbon inversion results"),
    "sec.assessment": ("时空特征评估指标与结果",
                       "Spatio-temporal assessment indicators and results"),
    "sec.suggestions": ("分区管理建议", "Zoning management suggestions"),
    "sec.appendix": ("附录：数据清单", "Appendix: data used"),
    # ------------------------------------------------------------------ common
    "missing": ("缺少{what}：{why}", "Not available, {what}: {why}"),
    "not_run": ("相应步骤尚未运行", "the step that makes it has not run"),
    "rounding": ("表中数值为产品文件数值四舍五入至 {d} 位小数（仅为显示）。",
                 "Values are those of the product files rounded to {d} decimals (display only)."),
    "figure_failed": ("{what}未能绘制：{why}", "{what} could not be drawn: {why}"),
    "unit_l1": ("一级单元", "level-1 unit"),
    "unit_l2": ("二级单元", "level-2 unit"),
    "code": ("代码", "code"),
    "area_ha": ("面积 (ha)", "area (ha)"),
    "share_pct": ("占监测范围比例 (%)", "share of the extent (%)"),
    "total": ("合计", "total"),
    "outside_units": ("单元外森林", "forest outside the units"),
    "pooled": ("合并模型", "pooled"),
    "year": ("年份", "year"),
    "unit": ("单元", "unit"),
    "lg.boundary": ("采矿权范围", "mining-right boundary"),
    "lg.extent": ("监测评估范围", "monitoring extent"),
    "lg.damage": ("损毁图斑", "damage"),
    "lg.plan": ("拟开采图斑", "planned mining"),
    "lg.reclamation": ("复垦图斑", "reclamation"),
    "lg.plots": ("样地", "plots"),
    "as.method": ("自然断点的求解方法：{m}。", "Natural breaks found by the {m} method."),
    # ------------------------------------------------------------------ 1 site
    "site.intro": ("项目名称：{name}。监测评估范围面积 {area} ha（坐标系 {crs}），"
                   "监测期 {y0}—{y1} 年。",
                   "Project: {name}. The monitoring extent covers {area} ha (CRS {crs}); "
                   "monitoring period {y0}–{y1}."),
    "site.units_table": ("{y0} 年与 {y1} 年一级监测评估单元（森林对象）面积",
                         "Areas of the level-1 assessment units (forest objects) in {y0} and {y1}"),
    "site.forest": ("森林对象（至当年曾为森林的像元）面积：{y0} 年 {a0} ha（{s0} %），"
                    "{y1} 年 {a1} ha（{s1} %）。",
                    "Forest objects (pixels forest in some year up to then): {a0} ha ({s0} %) in "
                    "{y0}, {a1} ha ({s1} %) in {y1}."),
    "site.forest_types": ("样地调查记录的森林类型：{types}。",
                          "Forest types recorded in the plots: {types}."),
    "site.map": ("{y} 年一级监测评估单元、采矿权范围与监测评估范围",
                 "Level-1 assessment units of {y}, mining-right boundary and monitoring extent"),
    # ------------------------------------------------------------------ 2 mining
    "mining.damage_table": ("矿区损毁图斑（按损毁形式）", "Mining damage polygons by form"),
    "mining.form": ("损毁形式", "form"),
    "mining.n": ("图斑数", "polygons"),
    "mining.first": ("最早年份", "first year"),
    "mining.last": ("最晚年份", "last year"),
    "mining.plan": ("拟开采图斑 {n} 个，面积 {area} ha（计划年份 {y0}—{y1}）。",
                    "Planned mining: {n} polygons, {area} ha (planned for {y0}–{y1})."),
    "mining.reclamation": ("复垦图斑 {n} 个，面积 {area} ha（复垦年份 {y0}—{y1}）。",
                           "Reclamation: {n} polygons, {area} ha (reclaimed {y0}–{y1})."),
    "mining.map": ("损毁、拟开采与复垦图斑", "Damage, planned-mining and reclamation polygons"),
    "p.damage": ("损毁图斑", "the damage polygons"),
    "p.plan": ("拟开采图斑", "the planned-mining polygons"),
    "p.reclamation": ("复垦图斑", "the reclamation polygons"),
    # ------------------------------------------------------------------ 3 plots layout
    "layout.intro": ("监测评估范围为采矿权范围外扩 {buffer} m；"
                     "分析格网像元大小 {pixel} m，坐标系 {crs}。",
                     "The monitoring extent is the mining-right boundary buffered by {buffer} m; "
                     "the analysis grid has {pixel} m pixels in {crs}."),
    "layout.table": ("{y} 年各监测评估单元样地数", "Plots per assessment unit ({y})"),
    "layout.level": ("级别", "level"),
    "layout.plots": ("样地数", "plots"),
    "layout.required": ("满足 ≥ {n} 个", "≥ {n} plots"),
    "layout.map": ("样地分布与二级监测评估单元", "Plots over the level-2 assessment units"),
    # ------------------------------------------------------------------ 4 plot AGC
    "plot.by_type": ("各森林类型样地地上碳储量", "Plot AGC per forest type"),
    "plot.by_unit": ("各一级单元样地地上碳储量", "Plot AGC per level-1 unit"),
    "plot.forest_type": ("森林类型", "forest type"),
    "plot.n": ("样地数", "plots"),
    "plot.mean": ("平均 (t C/ha)", "mean (t C/ha)"),
    "plot.min": ("最小 (t C/ha)", "min (t C/ha)"),
    "plot.max": ("最大 (t C/ha)", "max (t C/ha)"),
    "plot.ci": ("95 % 区间平均宽度 (t C/ha)", "mean 95 % interval width (t C/ha)"),
    "plot.no_type": ("未记录", "not recorded"),
    "plot.models": ("立木生物量模型表：{names}。", "Tree biomass model table: {names}."),
    "plot.models_table": ("样地所用立木生物量模型及其系统误差", "Biomass models of the plots and "
                          "their systematic errors"),
    "plot.model": ("模型", "model"),
    "plot.model_group": ("树种组", "species group"),
    "plot.model_trees": ("株数", "trees"),
    "plot.model_share": ("占样地碳储量 (%)", "share of the plots' carbon (%)"),
    "plot.model_sd": ("系统误差 (%)", "systematic error (%)"),
    "plot.model_sd_source": ("来源", "from"),
    "plot.sd.table": ("模型表", "model table"),
    "plot.sd.default": ("默认 10%", "default 10 %"),
    "plot.sd.config": ("配置", "configuration"),
    "plot.models_note": ("系统误差为模型本身（参数及外推到其他林分）的相对标准差，"
                         "同一模型的全部样地共有；默认模型表的取值按模型来源判断，"
                         "经本地样木检验的模型应填入自己的值。",
                         "The systematic error is the relative standard deviation of the model's "
                         "own error (its parameters and its transfer to other stands), shared by "
                         "every plot of the model; the default table's values are judged from "
                         "each model's provenance: put your own where you have checked a model "
                         "against local sample trees."),
    "plot.systematic": (
        "样地区间含测量误差、模型残差，以及生物量模型与含碳率的系统误差（同一模型的全部样地共有，"
        "不随样地数减小；各样地平均 {s}%，全部样地合计 {t}%）。",
        "A plot's interval holds the measurement errors, the model residuals and the biomass "
        "models' and carbon fractions' systematic errors (shared by every plot of the same "
        "model, not reduced by more plots; {s} % on average per plot, {t} % for all plots "
        "together)."),
    # ------------------------------------------------------------------ 5 models
    "models.cv_table": ("嵌套交叉验证结果（外层各折平均，* 为选用模型）",
                        "Nested cross-validation (mean over the outer folds; * the chosen model)"),
    "models.stratum": ("分层", "stratum"),
    "models.model": ("模型", "model"),
    "models.folds": ("折数", "folds"),
    "models.r2": ("R²", "R²"),
    "models.rmse": ("RMSE (t C/ha)", "RMSE (t C/ha)"),
    "models.mae": ("MAE (t C/ha)", "MAE (t C/ha)"),
    "models.rrmse": ("相对 RMSE (%)", "relative RMSE (%)"),
    "models.bias": ("偏差 (t C/ha)", "bias (t C/ha)"),
    "models.chosen": ("选用", "chosen"),
    "models.features_table": ("最终模型的特征变量", "Features of the final models"),
    "models.features": ("特征变量（按排序）", "features (in rank order)"),
    "models.accuracy": ("{stratum}：{model}，外层交叉验证（未参与训练）R² = {r2}，"
                        "RMSE = {rmse} t C/ha"
                        "（相对 RMSE {rrmse} %），偏差 {bias} t C/ha，样地 {n} 个。",
                        "{stratum}: {model}, held-out outer-fold R² = {r2}, RMSE = {rmse} t C/ha "
                        "(relative RMSE {rrmse} %), bias {bias} t C/ha, {n} plots."),
    "mc.table": ("各分层采用的模型及其超参数",
                 "The model of every stratum and its hyper-parameters"),
    "mc.note": ("样地不足或合并模型对本层样地的交叉验证误差更小时，本层采用合并模型；"
                "超参数为嵌套交叉验证内层网格搜索所得。",
                "A stratum uses the pooled model when it has too few plots or when the pooled "
                "model predicts its plots better out of fold; hyper-parameters are those the "
                "inner grid search of the nested cross-validation chose."),
    "mc.stratum": ("分层", "stratum"),
    "mc.model": ("模型", "model"),
    "mc.source": ("来源", "source"),
    "mc.plots": ("样地数", "plots"),
    "mc.params": ("超参数", "hyper-parameters"),
    "mc.why": ("说明", "why"),
    "mc.own": ("本层模型", "own model"),
    "mc.pooled": ("合并模型", "pooled model"),
    "mc.selection": (
        "特征选择与模型优选：特征变量按{selector}筛选（{params}）；比较的模型为 {kinds}，"
        "以 {n} 个样地作嵌套交叉验证（外层 {outer} 折评价精度，内层 {inner} 折网格搜索超参数）；"
        "优选规则：{rule}。",
        "Feature selection and model choice: features selected by {selector} ({params}); "
        "models compared: {kinds}, by nested cross-validation on {n} plots ({outer} outer folds "
        "score the accuracy, {inner} inner folds grid-search the hyper-parameters); rule: "
        "{rule}."),
    "tls.table": ("地基激光雷达（TLS）单木测量与每木检尺的对比验证",
                  "TLS tree measurements validated against the tally"),
    "tls.note": ("检出率 = 匹配株数 / 检尺株数；误检率 = 未匹配的检出株数 / 检出株数；偏差与"
                 "均方根误差为 TLS 减检尺值。",
                 "Detection = matched / tallied trees; commission = unmatched detections / "
                 "detections; bias and RMSE of TLS minus tally."),
    "tls.plot": ("样地", "plot"),
    "tls.density": ("点密度 (点/m²)", "density (pts/m²)"),
    "tls.tally": ("检尺株数", "tallied"),
    "tls.detected": ("检出株数", "detected"),
    "tls.matched": ("匹配株数", "matched"),
    "tls.detection": ("检出率", "detection"),
    "tls.commission": ("误检率", "commission"),
    "tls.dbh_bias": ("胸径偏差 (cm)", "DBH bias (cm)"),
    "tls.dbh_rmse": ("胸径 RMSE (cm)", "DBH RMSE (cm)"),
    "tls.height_bias": ("树高偏差 (m)", "height bias (m)"),
    "tls.height_rmse": ("树高 RMSE (m)", "height RMSE (m)"),
    "models.comparison": ("各模型交叉验证精度比较", "Cross-validated accuracy of the models"),
    "models.obs_pred": ("样地观测值与外层交叉验证预测值",
                        "Observed against out-of-fold predicted AGC"),
    "models.class_table": ("分类精度（独立验证样本）",
                           "Classification accuracy (held-out samples)"),
    "models.product": ("产品", "product"),
    "models.n": ("验证样本数", "samples"),
    "models.oa": ("总体精度", "overall accuracy"),
    "models.kappa": ("Kappa 系数", "kappa"),
    "acc.landcover": ("土地覆盖", "land cover"),
    "acc.landcover_series": ("土地覆盖时间序列（发布图，随机抽取的验证样本）",
                             "land-cover series (published maps, random samples)"),
    "models.forest_calibration": (
        "土地覆盖时间序列的森林面积已按随机验证样本的误差矩阵调整估计值校准：森林概率权重 {w}，"
        "森林占比 {before} → {after}（估计值 {est}，标准误 {se}）。",
        "The land-cover series' forest area is calibrated to the error-adjusted estimate from "
        "the random held-out samples: forest probability weight {w}, forest share {before} → "
        "{after} (estimate {est}, standard error {se})."),
    "models.held_out_by_place": (
        "土地覆盖验证样本按位置整体留出（同一位置各年的样本同属训练或验证），发布图的模型未用其训练。",
        "The land-cover held-out samples are whole places (a place's samples of every year are "
        "all held out or all kept), and no published map was made with a model trained on "
        "them."),
    "acc.leaf_habit": ("常绿/落叶", "leaf habit"),
    "acc.species": ("优势树种", "species"),
}
