"""劳动竞赛 and 隐患排查题库.

Competitions: a union applies (立项) and the organisation above it reviews the application on
the declared workflow (`workflows.COMPETITION`); an approved competition runs in stages, its
entrants are members of the registry (optionally in a 班组), judges are staff users assigned to
the competition or to one stage, each judge's score of an entry is final once submitted, and a
stage's results are computed by `scoring` with the stage's rule. A 技术等级提升 is a
`SkillRecord` of the member.

Hazard bank: questions from experts (entered or imported) and from workers' hazard reports
accepted by a reviewer; quizzes draw questions per place type; an attempt is timed by the
server."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.organizations.models import Organization

TITLE_MAX = 60


class CompetitionKind(models.TextChoices):
    LABOUR = "labour", "劳动竞赛"
    SKILL = "skill", "技能竞赛"
    INNOVATION = "innovation", "创新竞赛"
    SAFETY = "safety", "安全竞赛"


class CompetitionStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"
    RUNNING = "running", "进行中"
    FINISHED = "finished", "已结束"


class ScoringRule(models.TextChoices):
    TRIMMED = "trimmed", "去掉一个最高分和一个最低分后取平均"
    MEAN = "mean", "取平均"
    MEDIAN = "median", "取中位数"


class Competition(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    review_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("竞赛类别", max_length=12, choices=CompetitionKind.choices)
    title = models.CharField("竞赛名称", max_length=TITLE_MAX)
    organiser = models.CharField("主办单位", max_length=120)
    plan = models.TextField("竞赛方案", max_length=2000)
    targets = models.JSONField("量化目标", default=list)
    trades = models.JSONField("竞赛工种", default=list)
    budget_fen = models.PositiveBigIntegerField("预算（分）")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    status = models.CharField(
        "状态", max_length=12, choices=CompetitionStatus.choices, default=CompetitionStatus.SUBMITTED
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.CharField("审核意见", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="competition_org_status")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="competition_dates")
        ]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    """One line of the rubric: what the judges score and its maximum points."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField("评分项", max_length=40)
    max_points = models.DecimalField("满分", max_digits=5, decimal_places=1)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "name"], name="criterion_unique"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="criterion_max_positive"),
        ]


class StageStatus(models.TextChoices):
    PENDING = "pending", "未开始"
    SCORING = "scoring", "评分中"
    PUBLISHED = "published", "已公布"


class Stage(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField("阶段", max_length=20)
    order = models.PositiveSmallIntegerField("顺序")
    scored = models.BooleanField("评分阶段", default=True)
    rule = models.CharField("计分规则", max_length=10, choices=ScoringRule.choices, default=ScoringRule.TRIMMED)
    min_scores = models.PositiveSmallIntegerField("最少有效评分数", default=3)
    advance = models.PositiveSmallIntegerField("晋级人数", default=0)
    first_prizes = models.PositiveSmallIntegerField("一等奖名额", default=0)
    second_prizes = models.PositiveSmallIntegerField("二等奖名额", default=0)
    third_prizes = models.PositiveSmallIntegerField("三等奖名额", default=0)
    status = models.CharField(max_length=10, choices=StageStatus.choices, default=StageStatus.PENDING)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["competition_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "order"], name="stage_order_unique"),
            models.CheckConstraint(condition=Q(min_scores__gte=1), name="stage_min_scores"),
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A 班组 entering together."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField("班组", max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="team_unique")]

    def __str__(self) -> str:
        return self.name


class Entrant(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="entrants")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="competition_entries")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="entrants")
    trade = models.CharField("工种", max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["competition", "member"], name="entrant_unique")]


class Judge(models.Model):
    """A staff user judging the whole competition (`stage` empty) or one stage."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="judges")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, null=True, blank=True, related_name="judges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judging")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "user"], condition=Q(stage=None), name="judge_whole"),
            models.UniqueConstraint(fields=["stage", "user"], name="judge_stage"),
        ]


class Award(models.TextChoices):
    NONE = "", "—"
    FIRST = "first", "一等奖"
    SECOND = "second", "二等奖"
    THIRD = "third", "三等奖"


class Entry(models.Model):
    """An entrant in a stage, with the result once the stage is published."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="entries")
    entrant = models.ForeignKey(Entrant, on_delete=models.CASCADE, related_name="entries")
    result = models.DecimalField("成绩", max_digits=7, decimal_places=2, null=True, blank=True)
    scores_counted = models.PositiveSmallIntegerField(default=0)
    rank = models.PositiveIntegerField("名次", null=True, blank=True)
    award = models.CharField("奖项", max_length=10, choices=Award.choices, blank=True)
    advanced = models.BooleanField("晋级", default=False)

    class Meta:
        ordering = ["stage_id", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["stage", "entrant"], name="entry_unique")]


class Score(models.Model):
    """One judge's score of one entry; final once saved (a judge cannot revise it after seeing
    the others)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="scores")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    points = models.JSONField("分项得分")
    total = models.DecimalField("总分", max_digits=7, decimal_places=1)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["entry", "judge"], name="score_once")]


class SkillGrade(models.TextChoices):
    JUNIOR = "junior", "初级工"
    INTERMEDIATE = "intermediate", "中级工"
    SENIOR = "senior", "高级工"
    TECHNICIAN = "technician", "技师"
    SENIOR_TECHNICIAN = "senior_technician", "高级技师"


GRADE_ORDER = [g.value for g in SkillGrade]


class SkillRecord(models.Model):
    """A 技术等级提升 of a member (from a competition's result, or recorded on its own)."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="skill_records")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    competition = models.ForeignKey(
        Competition, on_delete=models.PROTECT, null=True, blank=True, related_name="skill_records"
    )
    trade = models.CharField("工种", max_length=20)
    from_grade = models.CharField("原等级", max_length=20, choices=SkillGrade.choices)
    to_grade = models.CharField("新等级", max_length=20, choices=SkillGrade.choices)
    basis = models.CharField("依据", max_length=100)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateField("认定日期")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "competition", "to_grade"], condition=Q(competition__isnull=False), name="skill_once"
            )
        ]


# ---- hazard question bank ------------------------------------------------------------------


class PlaceType(models.TextChoices):
    WORKSHOP = "workshop", "工厂车间"
    WAREHOUSE = "warehouse", "仓库"
    SITE = "site", "建筑工地"
    LOGISTICS = "logistics", "物流运输"


class QuestionKind(models.TextChoices):
    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    SPOT = "spot", "找隐患（点击图片）"


class QuestionSource(models.TextChoices):
    EXPERT = "expert", "专家题库"
    IMPORT = "import", "批量导入"
    REPORT = "report", "职工隐患随手拍"


class Question(models.Model):
    """A question of the bank. Choice questions keep `options` and the indices in `correct`;
    a spot question keeps `regions`, rectangles [x, y, w, h] as fractions of the image's width
    and height (0–1), and is answered by a click point inside any of them."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=10, choices=QuestionSource.choices)
    kind = models.CharField("题型", max_length=10, choices=QuestionKind.choices)
    place_type = models.CharField("场所类型", max_length=12, choices=PlaceType.choices)
    stem = models.CharField("题干", max_length=300)
    options = models.JSONField("选项", default=list)
    correct = models.JSONField("正确选项", default=list)
    regions = models.JSONField("隐患区域", default=list)
    image = models.CharField(max_length=200, blank=True)
    explanation = models.CharField("解析", max_length=300, blank=True)
    points = models.PositiveSmallIntegerField("分值", default=5)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["place_type", "is_active"], name="question_place_active")]
        constraints = [models.CheckConstraint(condition=Q(points__gte=1), name="question_points_positive")]


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    ACCEPTED = "accepted", "已入库"
    REJECTED = "rejected", "未采用"


class HazardReport(models.Model):
    """A hazard a worker found at work (隐患随手拍): the photo, where, what is wrong and what is right."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="hazard_reports")
    place_type = models.CharField("场所类型", max_length=12, choices=PlaceType.choices)
    hazard = models.CharField("隐患描述", max_length=300)
    right_answer = models.CharField("正确做法", max_length=300)
    photo = models.CharField(max_length=200)
    photo_type = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)
    question = models.OneToOneField(Question, on_delete=models.SET_NULL, null=True, blank=True, related_name="report")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.CharField("审核意见", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="hazard_report_org_status")]


class Quiz(models.Model):
    """An online quiz: how many questions of each place type (`mix`), the time limit and the window."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    title = models.CharField("测验名称", max_length=TITLE_MAX)
    mix = models.JSONField("抽题配比")
    time_limit_s = models.PositiveIntegerField("限时（秒）")
    opens_on = models.DateField("开始日期")
    closes_on = models.DateField("结束日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="quiz_dates"),
            models.CheckConstraint(condition=Q(time_limit_s__gte=30), name="quiz_time_limit"),
        ]

    def __str__(self) -> str:
        return self.title


class AttemptStatus(models.TextChoices):
    STARTED = "started", "答题中"
    SUBMITTED = "submitted", "已交卷"
    TIMED_OUT = "timed_out", "超时"


class Attempt(models.Model):
    """A member's one attempt at a quiz: the questions drawn for them, the server's deadline,
    the answers and the score."""

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="quiz_attempts")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    questions = models.JSONField(default=list)
    answers = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.STARTED)
    score = models.PositiveIntegerField(default=0)
    max_score = models.PositiveIntegerField(default=0)
    seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["quiz", "organization", "status"], name="attempt_board")]
        constraints = [models.UniqueConstraint(fields=["quiz", "member"], name="attempt_once")]
