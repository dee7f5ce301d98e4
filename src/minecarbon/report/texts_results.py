"""The report's words for sections 6–8, the appendix and the product names.

Part of :data:`minecarbon.report.texts.TEXTS` (key → (Chinese, English)); the content builders
read them only through :func:`minecarbon.report.texts.tr`.
"""

from __future__ import annotations

__all__ = ["RESULT_TEXTS"]

#: key → (Chinese, English): remote-sensing data, inversion, assessment, suggestions, appendix,
#: product names.
RESULT_TEXTS: dict[str, tuple[str, str]] = {
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
    "rs.harm_hls": ("{sensors} 的地表反射率按 HLS 的波段响应调整函数（Claverie 等，2018，"
                    "Remote Sensing of Environment 219: 145–161；Sentinel-2A 系数）逐波段转换至 "
                    "{target}，近红外取自 B8A 窄波段。",
                    "Surface reflectance of {sensors} was adjusted band by band to {target} with "
                    "the bandpass adjustment of HLS (Claverie et al. 2018, Remote Sensing of "
                    "Environment 219: 145–161; the Sentinel-2A coefficients), its NIR from the "
                    "narrow B8A."),
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
    "inv.change_smoothing": (
        "各年均为森林的像元（{n} 个，占末年森林的 {share}%）自 {y} 年起的碳储量变化取其 {w}×{w} "
        "像元窗口内同一森林类型、同一一级评估单元的此类像元的平均变化（按林分估计变化，如面向对象"
        "的变化估计）；{y} 年各像元的碳储量、地类发生过变化的像元（采矿、复垦等）以及变化取自"
        "其余森林的像元（{k} 个），保留自身的值。",
        "For the pixels that are forest in every year ({n}, {share} % of the last year's "
        "forest), the change in carbon since {y} is the mean change of such pixels of the same "
        "forest type and level-1 unit in a {w} × {w}-pixel window (the stand's change, as "
        "object-based change estimation takes it); every pixel's level in {y}, every pixel "
        "whose class changed (mining, reclamation) and the {k} pixels whose change was "
        "borrowed from the other forest keep their own values."),
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
    "tot.trend_checked": (
        "其中 {n} 个随机样点经独立复判与仲裁（{d} 个与初判不一致），校正面积已按两阶段差分估计扣除"
        "判读误差。",
        "{n} randomly chosen points were interpreted again and adjudicated ({d} disagreed with "
        "the first label); the estimated areas are corrected for the interpreter's errors "
        "(two-phase difference estimator)."),
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
