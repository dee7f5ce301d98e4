"""The report's words in Chinese and English: section titles, captions, headers and phrases.

Every string the content builders print comes from :data:`TEXTS` through :func:`tr`, so a
translation is one place to edit. Placeholders use :meth:`str.format` names.
"""

from __future__ import annotations

from minecarbon.report.document import Lang
from minecarbon.report.inputs import ReportInputs

#: Decimals of the numbers in the tables (areas, t C/ha, t C, %): display rounding only.
DECIMALS = 2
#: Decimals of R², kappa and overall accuracy.
METRIC_DECIMALS = 3

#: key → (Chinese, English).
TEXTS: dict[str, tuple[str, str]] = {
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
    # ------------------------------------------------------------------ 6 remote-sensing data
    "rs.intro": ("遥感数据：各年的特征变量来自当年生长季影像的合成影像，{y0}—{y1} 年共使用影像 "
                 "{n} 景，传感器为 {sensors}。",
                 "Remote-sensing data: each year's features come from a composite of that year's "
                 "growing-season scenes; {y0}–{y1}: {n} scenes from {sensors}."),
    "rs.sensor_years": ("{name}（{years} 年）", "{name} ({years})"),
    "rs.no_scene_years": ("{years} 年没有生长季影像，其特征由相邻年份的合成影像填补。",
                          "No growing-season scene in {years}: the features were filled from "
                          "neighbouring years' composites."),
    "rs.harm_roy": ("{sensors} 的地表反射率按 Roy 等（2016，Remote Sensing of Environment 185: "
                    "57–70，表 2）的 ETM+→OLI 普通最小二乘函数逐波段转换至 {target}{tm}。",
                    "Surface reflectance of {sensors} was transformed band by band to {target} "
                    "with the ETM+ → OLI ordinary-least-squares functions of Roy et al. (2016, "
                    "Remote Sensing of Environment 185: 57–70, Table 2){tm}."),
    "rs.harm_tm": ("（TM 采用同一组函数）", "; TM uses the same functions"),
    "rs.harm_tm_archive": (
        "（TM 先按本影像库 {pairs} 对同年生长季影像（相隔不超过 {days} 天，其中 TM/ETM+ "
        "{cross} 对，{n} 个稳定晴空像元{season_zh}）逐波段拟合的增益换算为 ETM+：红光 {red}，"
        "近红外 {nir}（括号内为标准误））",
        "; TM was first calibrated to ETM+ with per-band gains fitted on this archive's "
        "{pairs} same-year growing-season scene pairs at most {days} days apart, {cross} of "
        "them TM/ETM+ ({n} stable clear pixels{season_en}): red {red}, NIR {nir} (standard "
        "errors in brackets)"),
    "rs.harm_tm_table": ("（TM 采用同一组函数：{reason}）",
                         "; TM uses the same functions ({reason})"),
    "rs.harm_identity": ("{sensors} 与 OLI 波段和定标一致，按恒等变换视为 {target}。",
                         "{sensors} shares OLI's bands and calibration and was taken as {target} "
                         "(identity)."),
    "rs.harm_unknown": ("{sensors} 没有到 {target} 的转换函数，保持原反射率，"
                        "其年份的特征可能因传感器更替出现阶跃。",
                        "No function to {target} is tabled for {sensors}: its reflectance was "
                        "left as delivered, and its years may show a step from the change of "
                        "sensor."),
    "rs.harm_table": ("转换函数见 {table}；它们消除传感器间反射率的系统差异，"
                      "不能消除单次观测的观测几何与大气残差。",
                      "The functions are those of {table}; they remove the systematic "
                      "difference between the sensors' reflectance, not the scatter of single "
                      "observations from view geometry and residual atmosphere."),
    "rs.harm_none_needed": ("所用影像均为 {target}，无需传感器间转换。",
                            "Every scene is {target}; no cross-sensor transformation was needed."),
    "rs.harm_off": ("未进行传感器间反射率归一化（features.harmonise_to = off），"
                    "各年特征以其所用传感器的原反射率计算。",
                    "Surface reflectance was not harmonised between sensors "
                    "(features.harmonise_to = off): each year's features use its own sensors' "
                    "reflectance."),
    "rs.harm_off_step": ("所用传感器在 {years} 年发生变化，碳储量时间序列在这些年份可能出现"
                         "由传感器更替而非森林变化引起的阶跃，解读变化时应注意。",
                         "The sensors change in {years}: the carbon series may show a step there "
                         "caused by the change of sensor rather than by the forest; read the "
                         "changes across these years with care."),
    "rs.harm_partly_off": ("{years} 年的合成影像未做归一化。",
                           "The composites of {years} were not harmonised."),
    "rs.slc": ("2003 年 5 月 31 日起 Landsat 7 ETM+ 扫描行校正器（SLC）失效，其影像存在条带缺失。"
               "本次使用 SLC-off 影像 {n} 景（{years} 年），每景平均 {gap} % 的监测范围位于条带内；"
               "条带内的像元中 {filled} 由同年生长季其他日期的晴空观测填补，"
               "其余由相邻年份的合成影像填补。",
               "From 31 May 2003 the scan-line corrector (SLC) of Landsat 7 ETM+ has failed and "
               "its scenes have gaps. {n} SLC-off scenes were used ({years}); on average {gap} % "
               "of the extent lies in the gaps of a scene. Of the pixels in a gap, {filled} got "
               "a clear observation from another date of the same growing season; the rest were "
               "filled from neighbouring years' composites."),
    "rs.slc_none": ("所用影像中没有 SLC-off 影像（2003 年 5 月 31 日后的 Landsat 7 ETM+）。",
                    "None of the scenes is an SLC-off scene (Landsat 7 ETM+ after 31 May 2003)."),
    "rs.range": ("各年 {low} %—{high} %", "{low} %–{high} % (per year)"),
    "rs.table": ("各年遥感数据与合成影像质量",
                 "Remote-sensing data and composite quality per year"),
    "rs.sensors": ("传感器", "sensors"),
    "rs.scenes": ("影像数", "scenes"),
    "rs.slc_scenes": ("SLC-off 影像数", "SLC-off scenes"),
    "rs.gap": ("条带缺失平均比例 (%)", "mean gap share (%)"),
    "rs.gap_filled": ("条带由同年其他日期填补 (%)", "gaps filled from other dates (%)"),
    "rs.clear": ("有效观测比例 (%)", "clear share (%)"),
    "rs.filled": ("由相邻年份填补 (%)", "filled from neighbouring years (%)"),
    "rs.none": ("无影像", "no scene"),
    "rs.note": ("有效观测比例为监测范围内当年有晴空观测的像元比例，由相邻年份填补为其余像元中"
                "由相邻年份合成影像填补的部分占监测范围的比例。",
                " Clear share: share of the extent with a clear observation in the year; filled "
                "from neighbouring years: share of the extent filled from neighbouring years' "
                "composites."),
    "rs.note_slc": ("条带缺失平均比例为各景 SLC-off 影像监测范围内条带像元比例的平均；"
                    "条带由同年其他日期填补为至少一景条带内的像元中获得同年其他日期晴空观测的"
                    "比例（— 为当年无条带）。",
                    " Mean gap share: mean over the year's SLC-off scenes of the share of the "
                    "extent in their gaps; gaps filled from other dates: share of the pixels in a "
                    "gap of at least one scene that got a clear observation from another date of "
                    "the year (— where the year has no gap)."),
    # ------------------------------------------------------------------ 6 inversion
    "inv.map": ("{y} 年森林地上碳储量", "Forest above-ground carbon in {y}"),
    "inv.totals_chart": ("各单元森林地上碳储量总量变化", "AGC totals per unit over time"),
    "inv.totals_table": ("各一级单元森林地上碳储量总量 (t C)", "AGC totals per level-1 unit (t C)"),
    "inv.base_end": ("{y}（基准期末）", "{y} (end of base period)"),
    "inv.src.out-of-fold predictions of the plots": ("样地交叉验证预测",
                                                     "out-of-fold predictions of the plots"),
    "inv.src.re-measured plots": ("复测样地", "re-measured plots"),
    "inv.b_se": ("（标准误 {se}）", " (standard error {se})"),
    "inv.src.configured": ("配置给定", "the configuration"),
    "inv.temporal": (
        "逐年碳储量按像元的时间序列处理：在每个森林时段内将各年预测值拟合为分段线性轨迹"
        "（保留损毁等突变），无有效观测的年份取轨迹值；以 {y} 年样地为基准，将相对基准年的变化"
        "除以模型的衰减系数 b = {b}（来源：{source}，{n} 个样地），以消除回归向样地均值收缩"
        "对变化量的压缩；再加上{basis}的样地残差均值（实测减制图值，差值估计）{offsets}。",
        "The annual carbon maps were processed per pixel as a time series: within each forest "
        "span the yearly predictions were fitted as a piecewise-linear trajectory (abrupt "
        "changes such as mining damage kept), and years without a usable observation took the "
        "trajectory's value. Change from the plots' year {y} was divided by the model's "
        "attenuation b = {b} (from {source}, {n} plots), which undoes the compression of change "
        "by regression toward the plots' mean; the mean residual (observed minus mapped, out "
        "of fold) of the plots {basis} was then added (difference estimator): {offsets}."),
    "inv.space_for_time": (
        "b 由同一调查年份不同林分之间的差异求得（以空间代时间）：各变化量、趋势与累积效应的大小"
        "都假定模型对林分随时间生长的响应与对林分间差异的响应相同。这一假定本数据无法检验，"
        "也未计入置信区间；在本项目的模拟矿区上，仅此一项就曾使制图变化量比真实变化量少约 40%。"
        "变化的方向比其大小更可靠。若在第二个年份复测至少 5 块样地，b 可由实测变化求得"
        "（mapping.change_calibration）。",
        "b was estimated from the differences between stands in one survey year (space for "
        "time): the size of every change, trend and cumulative effect assumes that the model "
        "responds to a stand's growth over time as it does to the differences between stands. "
        "These data cannot test that assumption, and the intervals do not include it; on the "
        "project's simulated mining sites it alone once left the mapped change about 40 % "
        "short of the true change. The direction of change is more reliable than its size. "
        "Re-measuring at least 5 of the plots in a second year lets b come from observed "
        "change (mapping.change_calibration)."),
    "inv.space_for_time_check": (
        "b 由同一调查年份不同林分之间的差异求得（以空间代时间）：各变化量、趋势与累积效应的大小"
        "都假定模型对林分随时间生长的响应与对林分间差异的响应相同。作为检验，与样地碳储量显著"
        "相关的 {n} 个光谱特征在历年均为森林的 {px} 个像元上自身的逐年变化，按各特征与样地碳储量"
        "的关系换算为碳储量（经典校准估计），相当于地图变化量的 {ratio} 倍。{how}变化的方向比其"
        "大小更可靠。若在第二个年份复测至少 5 块样地，b 可由实测变化求得"
        "（mapping.change_calibration）。",
        "b was estimated from the differences between stands in one survey year (space for "
        "time): the size of every change, trend and cumulative effect assumes that the model "
        "responds to a stand's growth over time as it does to the differences between stands. "
        "As a check, the change over the years of the {n} spectral features that track the "
        "plots' AGC, on the {px} pixels that are forest in every year and turned into carbon "
        "by each feature's slope on the plots' AGC (classical calibration), amounts to "
        "{ratio} times the maps' change. {how}The direction of change is more reliable than "
        "its size. Re-measuring at least 5 of the plots in a second year lets b come from "
        "observed change (mapping.change_calibration)."),
    "inv.sft.pooled": (
        "两者之差超出抽样误差（Cochran Q 检验 p = {p}），按随机效应合并（DerSimonian–Laird，"
        "特征估计的权重 {w}%），各林分自基准年起的变化量乘以合并系数 {f}；变化大小的不确定性"
        "计入碳储量总量与变化量的置信区间（见评估一节）。",
        "The two differ beyond their sampling errors (Cochran's Q test, p = {p}); they were "
        "pooled as random effects (DerSimonian–Laird, the features' weight {w} %) and every "
        "stand's change from its anchor year was multiplied by the "
        "pooled {f}; the uncertainty of the change's size enters the intervals of the carbon "
        "totals and changes (the assessment section). "),
    "inv.sft.agree": (
        "两者之差在各自的抽样误差之内（Cochran Q 检验 p = {p}），地图的变化量保持不变；"
        "变化大小的不确定性计入碳储量总量与变化量的置信区间（见评估一节）。",
        "The two differ by no more than their sampling errors (Cochran's Q test, p = {p}), so "
        "the maps' change stands; the uncertainty of the change's size enters the intervals of "
        "the carbon totals and changes (the assessment section). "),
    "inv.sft.checked": (
        "两者之差超出抽样误差（Cochran Q 检验 p = {p}），合并系数为 {f}（特征估计的权重 {w}%），"
        "未用于地图（mapping.space_for_time_pooling = false）；变化大小的不确定性计入碳储量总量"
        "与变化量的置信区间。",
        "The two differ beyond their sampling errors (Cochran's Q test, p = {p}); their "
        "pooled factor is {f} (the features' weight {w} %), not applied to the maps "
        "(mapping.space_for_time_pooling = false); the uncertainty of the change's size "
        "enters the intervals of the carbon totals and changes. "),
    "inv.sft.sign": (
        "特征所示的变化方向与地图相反，二者之差按线性误差计入碳储量总量与变化量的置信区间。",
        "The features' change goes the other way; the whole difference enters the intervals "
        "of the carbon totals and changes. "),
    "inv.basis.map": ("按样地处制图森林类型分层", "grouped by the map's forest type at them"),
    "inv.basis.plots": ("按样地林分类型分层", "grouped by their own stand type"),
    "inv.synthetic_change": (
        "{types}的模型对其样地的交叉验证预测不优于样地均值（R² ≤ 0：{r2}），看不出碳储量差异，"
        "也就看不出其变化。这些类型中自序列首年即为森林的林分保留基准年的碳储量水平，逐年变化取"
        "其余森林（{n} 个各年均为森林的像元）的相对变化（合成估计）：{first} 年为 {y} 年的 {g}；"
        "此后新成林的林分（复垦造林等）保留自身变化。衰减系数 b 只由其余类型的样地求得。",
        "The models of {types} predict their plots no better than the plots' mean (out-of-fold "
        "R² ≤ 0: {r2}): they see no carbon differences, and so no change. Their stands that "
        "were forest when the series begins keep their level in the reference year and take "
        "the relative change of the other forest ({n} pixels forest in every year; synthetic "
        "estimator): {first} stood at {g} of {y}. Stands that became forest later "
        "(reclamation plantings, regrowth) keep their own change. The attenuation b was taken "
        "from the other types' plots only."),
    "inv.unit_ratios": (
        "模型对全部样地无偏，但对各评估单元未必（林龄与经营史非光谱所能见）。各一级评估单元的碳储量"
        "乘以其 {y} 年样地的实测与制图值之比（比率估计），按单元间方差向全部样地之比 {pooled} "
        "收缩（经验贝叶斯组合估计；样地不足者取全部样地之比）：{ratios}。",
        "A model fitted on all plots is unbiased over them, not within each assessment unit "
        "(stand age and history, which no spectral feature sees). Each level-1 unit's carbon "
        "was multiplied by the ratio of its {y} plots' observed to mapped carbon (ratio "
        "estimator), shrunk toward all plots' ratio {pooled} by the between-unit variance "
        "(empirical-Bayes composite estimator; a unit with too few plots takes all plots' "
        "ratio): {ratios}."),
    # ------------------------------------------------------------------ 7 assessment
    "as.change_map": ("{y0}—{y1} 年地上碳储量变化量", "AGC change {y0}–{y1}"),
    "as.trend_map": ("地上碳储量变化趋势（Sen+MK）", "AGC trend class (Sen + Mann–Kendall)"),
    "as.trend_table": ("各趋势类型面积", "Area of each trend class"),
    "as.class": ("类型", "class"),
    "as.pixels": ("像元数", "pixels"),
    "as.degree_map": ("{y0}—{y1} 年地上碳储量变化程度 (%)", "AGC change degree {y0}–{y1} (%)"),
    "as.grade_warning": (
        "注意：自然断点未跨越 0，“无明显”等级的累积效应范围为 {low} 至 {high} t C/ha，"
        "等级名称中的“正向/负向”不等于效应的符号；图例与断点表给出了每一等级的实际范围。",
        "Note: the natural breaks do not straddle 0: the grade named \"not obvious\" holds "
        "effects from {low} to {high} t C/ha, so the words positive/negative in the grade "
        "names are not the sign of the effect; the legend and the breaks table give every "
        "grade's actual range."),
    "effect_layer": ("累积效应", "the cumulative effect"),
    "as.zonal_table_l2": ("各二级单元地上碳储量统计（{y} 年）",
                          "AGC statistics per level-2 unit ({y})"),
    "as.grade_map": ("累积效应等级（{y0}—{y1} 年）", "Cumulative-effect grades ({y0}–{y1})"),
    "as.breaks_table": ("累积效应等级的自然断点 (t C/ha)",
                        "Natural breaks of the cumulative-effect grades (t C/ha)"),
    "as.grade": ("等级", "grade"),
    "as.lower": ("下限", "lower"),
    "as.upper": ("上限", "upper"),
    "as.hot_map": ("{what}的冷热点（Gi*）", "Hot and cold spots (Gi*) of {what}"),
    "as.zonal_table": ("各一级单元地上碳储量统计（{y} 年）",
                       "AGC statistics per level-1 unit ({y})"),
    "as.mean": ("平均值", "mean"),
    "as.max": ("最大值", "max"),
    "as.min": ("最小值", "min"),
    "as.var": ("方差", "variance"),
    "as.change": ("变化量均值", "mean change"),
    "as.degree": ("变化程度均值 (%)", "mean change degree (%)"),
    "as.effect": ("累积效应均值", "mean cumulative effect"),
    "tot.missing": ("缺少带置信区间的碳储量总量表 totals.csv（评估步骤未运行）",
                    "the totals with intervals (totals.csv) are missing: the assessment step "
                    "has not run"),
    "tot.chart": ("监测范围及各一级单元地上碳储量总量估计及其 95% 置信区间（实线：估计值；"
                  "阴影：置信区间；点线：地图像元求和）",
                  "Estimated AGC totals of the extent and every level-1 unit with their 95 % "
                  "intervals (line: estimate; band: interval; dotted: sum of map pixels)"),
    "tot.year": ("年份", "Year"),
    "tot.axis_t": ("地上碳储量 (t C)", "Above-ground carbon (t C)"),
    "tot.axis_kt": ("地上碳储量 (10³ t C)", "Above-ground carbon (10³ t C)"),
    "tot.legend": ("单元", "Unit"),
    "tot.zone": ("单元", "Unit"),
    "tot.area": ("森林面积估计 (ha)", "Forest area, estimated (ha)"),
    "tot.estimate": ("估计值 (t C)", "Estimate (t C)"),
    "tot.ci": ("95% 置信区间 (t C)", "95 % interval (t C)"),
    "tot.mapped": ("地图求和 (t C)", "Map sum (t C)"),
    "tot.table": ("监测范围及一级单元地上碳储量总量估计", "Estimated AGC totals of the extent "
                  "and the level-1 units"),
    "tot.note": ("估计值按样地对地图的比估计（样地调查年）及其模型外推（其他年份）计算，"
                 "区间含样地抽样、生物量模型与含碳率的系统误差、变化校准与像元残差误差；地图求和仅供对照。",
                 "Estimates correct the map by the plots' ratio (the plots' year) and carry it "
                 "to the other years by the model; the intervals hold the plot sampling, the "
                 "biomass models' and carbon fractions' systematic errors, the change "
                 "calibration and the pixel residuals. The map sum "
                 "is shown for comparison only."),
    "tot.period": ("时段", "Period"),
    "tot.category": ("类别", "Category"),
    "tot.mapped_area": ("制图面积 (ha)", "Mapped area (ha)"),
    "tot.area_est": ("校正面积 (ha)", "Estimated area (ha)"),
    "tot.ci_ha": ("95% 置信区间 (ha)", "95 % interval (ha)"),
    "tot.trend_areas": ("{period} 年碳储量趋势类别面积：制图面积与参考样本校正估计",
                        "Areas of the carbon-trend categories {period}: mapped and estimated "
                        "from the reference sample"),
    "tot.cumulative_areas": ("{period} 年累积效应等级面积：制图面积与复测样地校正估计",
                             "Areas of the cumulative-effect grades {period}: mapped and "
                             "estimated from the re-measured plots"),
    "tot.cumulative_areas_note": (
        "复测样地以实测碳储量变化代替地图变化求得参考累积效应（气候期望值与地图相同），按地图"
        "分级断点定级；校正面积为以二级评估单元为层的差值估计（{method}）。",
        "A plot measured at both ends of the period gives its reference effect: its measured "
        "carbon change minus the same climate-only expectation as the map, graded with the "
        "map's breaks; areas are difference estimates over the level-2 units the plots were "
        "laid out in ({method})."),
    "tot.trend_areas_note": (
        "趋势类别：显著减少为明显减少，显著增加为明显增加，其余为无明显变化；校正面积按目视解译"
        "参考样本与制图类别的误差矩阵估计（{method}）。",
        "Categories: significant decrease is a clear decrease, significant increase a clear "
        "increase, the other classes no clear change; estimated areas from the error matrix of "
        "the interpreted reference points and the map ({method})."),
    "tot.kind": ("类型", "Kind"),
    "tot.change": ("变化量 (t C)", "change (t C)"),
    "tot.trend": ("线性趋势 (t C/a)", "linear trend (t C/yr)"),
    "tot.differs": ("是否显著不为 0", "Differs from 0"),
    "tot.yes": ("是", "yes"),
    "tot.no": ("否", "no"),
    "tot.change_table": ("各单元碳储量变化量及趋势的估计与 95% 置信区间",
                         "Estimated changes and trends of AGC per unit with 95 % intervals"),
    "tot.change_note": ("置信区间不含 0 时，变化可与 0 区分；两年共享的误差（样地比值）"
                        "在变化量中大部分相互抵消。",
                        "A change is distinguishable from zero when its interval excludes "
                        "0; the error both years share (the plots' ratio) largely cancels in "
                        "a change."),
    "tot.method": (
        "总量估计方法：{y} 年（样地调查年）以 {n} 块样地对地图作比估计（广义回归估计的比模型；"
        "单元内样地不少于 {k} 块时用单元自身比值，否则用全部样地比值并计入单元间差异）；"
        "其他年份为以 {y} 年为基准的模型推断，{chg}；生物量模型与含碳率的系统误差（各样地共有，"
        "不随样地数减小）合计 {d}%。面积按保留检验样本的"
        "误差矩阵校正。",
        "How the totals are estimated: in {y} (the plots' year) the map is corrected by the "
        "ratio of {n} plots to the map (the ratio model of the GREG estimator; a unit with at "
        "least {k} plots has its own ratio, others the ratio of all plots widened by the "
        "differences between units); the other years are inferred by the model from {y}, "
        "{chg}; the biomass models' and carbon fractions' systematic error, shared by all plots "
        "and not reduced by more of them, is {d} %. Areas are corrected with the "
        "error matrix of the held-out reference samples."),
    "tot.chg_linear": ("变化部分的相对误差取 {c}%（衰减系数的抽样误差及各森林类型间差异）",
                       "the change carrying a relative error of {c} % (the attenuation "
                       "slope's sampling error and its differences between forest types)"),
    "tot.chg_pooled": ("变化部分的误差见下", "the change's error as below"),
    "tot.method_sft": (
        "以空间代时间的检验（见反演一节）比较了地图与光谱特征对变化大小的两种估计；变化部分的误差"
        "（b 的抽样误差及两种估计间超出抽样误差的差异）按对数正态计，相差 {f} 倍为一个标准差，"
        "故 {y} 年以外各年的总量及各变化量的置信区间不对称，且不改变变化的方向。",
        "The space-for-time check (the inversion section) compared the maps' and the spectral "
        "features' estimates of the change's size; the change's error (b's sampling error and "
        "the two estimates' difference beyond their sampling errors) is taken log-normally, "
        "one standard deviation being a factor of {f} on the change, so the intervals of the "
        "years other than {y} and of every change are asymmetric and do not reverse a "
        "change's direction."),
    "as.zonal_note": ("统计量单位 t C/ha（方差 (t C/ha)²）；变化量为 {pair}。变化量均值对单元内"
                      "所有曾为森林的像元求平均（非森林年份计 0），变化程度均值只对起始年为森林的"
                      "像元求平均（起始年碳储量为 0 时变化程度无定义），两者平均的像元不同，符号可"
                      "以相反：例如新造林使变化量为正，而原有森林的损失使变化程度为负。",
                      "Statistics in t C/ha (variance in (t C/ha)²); change is {pair}. The mean "
                      "change averages every pixel of the unit that was ever forest (0 t C/ha "
                      "in non-forest years), the mean change degree only the pixels forested in "
                      "the first year (the degree is undefined where that year's carbon is 0): "
                      "they average different pixels and can differ in sign — new planting "
                      "makes the change positive while losses of the old forest make the degree "
                      "negative."),
    "agc_layer": ("{y} 年地上碳储量", "AGC {y}"),
    "change_layer": ("{y0}—{y1} 年变化量", "change {y0}–{y1}"),
    # ------------------------------------------------------------------ 8 suggestions
    "sug.intro": ("以下建议由明确的规则作用于最后一年（{y} 年）的二级监测评估单元结果得出：",
                  "The suggestions below come from stated rules applied to the level-2 assessment "
                  "units of the last year ({y}):"),
    "sug.table": ("分区管理建议及其触发结果",
                  "Zoning suggestions and the results that triggered them"),
    "sug.none": ("没有单元触发任何规则。", "No unit triggered a rule."),
    "sug.rule": ("规则", "rule"),
    "sug.suggestion": ("建议", "suggestion"),
    "sug.trigger": ("触发结果", "triggering result"),
    # ------------------------------------------------------------------ appendix
    "app.table": ("数据清单（监测数据库）", "Datasets of the catalogue"),
    "app.path": ("路径", "path"),
    "app.kind": ("类型", "kind"),
    "app.time": ("时间", "time"),
    "app.step": ("生成步骤", "produced by step"),
    "app.inputs": ("输入数据（数据血缘）", "inputs (lineage)"),
    "app.note": ("共 {n} 个数据文件，按类型归并，每类一行，同一序列的文件以文件名模式表示"
                 "（{{year}} 为年份、{{date}} 为日期）；每个文件的完整 SHA-256 校验值与数据"
                 "血缘（生成时读取的数据）见报告旁的机器可读附件 {annex}、"
                 "products/catalog/datasets.csv 与 STAC 目录 work/stac。",
                 "{n} data files, one line per kind, the files of a series by their name's "
                 "pattern ({{year}} a year, {{date}} a date); every file's full SHA-256 "
                 "checksum and lineage (the data read to make it) are in the machine-readable "
                 "annex {annex} beside the report, in products/catalog/datasets.csv and in the "
                 "STAC catalogue work/stac."),
    "app.files": ("文件（模式）", "files (pattern)"),
    "app.count": ("文件数", "files"),
    "app.crs": ("坐标系", "CRS"),
    "app.size": ("大小", "size"),
    # ------------------------------------------------------------------ product names
    "p.boundary": ("采矿权范围", "the mining-right boundary"),
    "p.extent": ("监测评估范围", "the monitoring extent"),
    "p.unit_areas": ("单元面积表 unit_areas.csv", "the unit areas (unit_areas.csv)"),
    "p.units_l1": ("一级单元图", "the level-1 unit map"),
    "p.units_l2": ("二级单元图", "the level-2 unit map"),
    "p.plots": ("样地位置", "the plot locations"),
    "p.plot_units": ("样地单元表 plot_units.csv", "the plot–unit table (plot_units.csv)"),
    "p.plot_agc": ("样地碳储量 plot_agc.csv", "the plot AGC (plot_agc.csv)"),
    "p.accuracy": ("分类精度 accuracy.json", "the classification accuracy (accuracy.json)"),
    "p.cv_results": ("交叉验证结果 cv_results.csv",
                     "the cross-validation results (cv_results.csv)"),
    "p.selected_features": ("特征选择结果 selected_features.csv",
                            "the selected features (selected_features.csv)"),
    "p.model_card": ("模型卡 model_card.json", "the model card (model_card.json)"),
    "p.oof_predictions": ("外层交叉验证预测值", "the out-of-fold predictions"),
    "p.agc": ("地上碳储量图", "the AGC maps"),
    "p.composite_quality": ("合成影像质量表 composite_quality.csv",
                            "the composite quality (composite_quality.csv)"),
    "p.agc_totals": ("碳储量总量表 agc_totals.csv", "the AGC totals (agc_totals.csv)"),
    "p.change": ("变化量图", "the change maps"),
    "p.change_degree": ("变化程度图", "the change-degree maps"),
    "p.trend_class": ("趋势类型图", "the trend-class map"),
    "p.cumulative_grade": ("累积效应等级图", "the cumulative-effect grade map"),
    "p.gistar_bin": ("冷热点图", "the hot-spot map"),
    "p.zonal_stats": ("分区统计表 zonal_stats.csv", "the zonal statistics (zonal_stats.csv)"),
    "p.carbon_totals": ("碳储量总量估计表 totals.csv", "the estimated totals (totals.csv)"),
    "p.area_estimates": ("面积估计表 area_estimates.csv",
                         "the area estimates (area_estimates.csv)"),
    "p.change_totals": ("变化量估计表 change_totals.csv",
                        "the estimated changes (change_totals.csv)"),
    "p.assessment_summary": ("评估摘要 summary.json", "the assessment summary (summary.json)"),
    "p.catalogue": ("监测数据库清单", "the catalogue"),
    "p.damage_forms": ("损毁形式", "damage forms"),
}


def tr(key: str, lang: Lang, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``values`` filled in.

    Examples
    --------
    >>> tr("inv.map", "en", y=2024)
    'Forest above-ground carbon in 2024'

    """
    zh, en = TEXTS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Chinese or English half of a ``(zh, en)`` pair."""
    return pair[0] if lang == "zh" else pair[1]


def missing_reason(inputs: ReportInputs, product: str, lang: Lang) -> str:
    """Why ``product`` (a :class:`ReportInputs` field) is absent, in words for the report.

    The reason recorded by the loader in ``inputs.missing`` when there is one, else "the step
    that makes it has not run".
    """
    what = tr(f"p.{product}", lang) if f"p.{product}" in TEXTS else product
    why = inputs.missing.get(product) or tr("not_run", lang)
    return tr("missing", lang, what=what, why=why)
