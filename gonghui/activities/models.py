"""职工夜校 and activities: training plans of courses (焊接, 铸造, 数控 …) with their sessions,
QR attendance and certificates; events (夏令营, 半程马拉松, 疗休养) with registration and a
seeded lottery. Both take places through one mechanism (`places.py`): a `Roster` holds the
capacity and the counters, a `Place` is one member's seat or position in the waiting list."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from gonghui.core.fields import EncryptedTextField
from gonghui.members.models import Member
from gonghui.organizations.models import Organization

CHILD_NAME_PURPOSE = "activities.child_name"
CHILD_BIRTH_PURPOSE = "activities.child_birth"


class Roster(models.Model):
    """The places of one course or activity: `confirmed` seats of `capacity` are taken, and
    `last_seq` numbers the arrivals. While `awaiting_draw`, sign-ups enter a lottery instead."""

    capacity = models.PositiveIntegerField("名额")
    confirmed = models.PositiveIntegerField(default=0)
    last_seq = models.PositiveIntegerField(default=0)
    awaiting_draw = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(confirmed__lte=F("capacity")), name="roster_within_capacity"),
        ]

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.confirmed)


class PlaceStatus(models.TextChoices):
    ENTERED = "entered", "待抽签"
    CONFIRMED = "confirmed", "已录取"
    WAITLISTED = "waitlisted", "候补"
    CANCELLED = "cancelled", "已取消"


ACTIVE_PLACE_STATUSES = (PlaceStatus.ENTERED, PlaceStatus.CONFIRMED, PlaceStatus.WAITLISTED)


class Place(models.Model):
    """A member's sign-up: `seq` is the arrival number (never changes), `rank` the position in
    the waiting list (the arrival number, or the lottery's order after a draw)."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="places")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="activity_places")
    status = models.CharField(max_length=12, choices=PlaceStatus.choices)
    seq = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["roster_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["roster", "seq"], name="place_seq_unique"),
            models.UniqueConstraint(
                fields=["roster", "member"],
                condition=~Q(status="cancelled"),
                name="place_one_active_per_member",
            ),
        ]
        indexes = [models.Index(fields=["roster", "status", "rank"], name="place_queue_idx")]


# ---- 职工夜校 --------------------------------------------------------------------------------


class TrainingPlan(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("计划名称", max_length=60)
    description = models.TextField("说明", max_length=1000, blank=True)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="plan_dates_ordered")]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    """One period of a plan (焊接 …): a roster, an instructor from the registry (劳模/工匠) and
    the number of attended sessions that earns the certificate."""

    plan = models.ForeignKey(TrainingPlan, on_delete=models.PROTECT, related_name="courses")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("班次名称", max_length=40)
    trade = models.CharField("工种", max_length=20)
    instructor = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="courses_taught", verbose_name="授课老师"
    )
    location = models.CharField("上课地点", max_length=80)
    description = models.TextField("课程介绍", max_length=1000, blank=True)
    roster = models.OneToOneField(Roster, on_delete=models.PROTECT, related_name="course")
    certificate_sessions = models.PositiveIntegerField("结业所需出勤次数")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan_id", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def capacity(self) -> int:
        return self.roster.capacity


class Session(models.Model):
    """One lesson; a member checks in by scanning its QR code (`checkin_token`) on the H5 while
    the lesson's window is open."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sessions")
    topic = models.CharField("课题", max_length=60)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    checkin_token = models.CharField(max_length=32, unique=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_times_ordered")]


class CheckinMethod(models.TextChoices):
    QR = "qr", "扫码签到"
    STAFF = "staff", "工作人员补签"


class Attendance(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attendances")
    checked_in_at = models.DateTimeField()
    method = models.CharField(max_length=8, choices=CheckinMethod.choices, default=CheckinMethod.QR)

    class Meta:
        ordering = ["session_id", "checked_in_at"]
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="attendance_once")]


class Certificate(models.Model):
    """结业证书: `number` is printed on the PDF and checked on the public verification page."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField("证书编号", max_length=24, unique=True)
    sessions_attended = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["course_id", "number"]
        constraints = [models.UniqueConstraint(fields=["course", "member"], name="certificate_once")]


# ---- activities ------------------------------------------------------------------------------


class ActivityKind(models.TextChoices):
    SUMMER_CAMP = "camp", "职工子女夏令营"
    RUN = "run", "半程马拉松"
    RETREAT = "retreat", "疗休养"
    OTHER = "other", "其他活动"


class Activity(models.Model):
    """An event members register for on the H5; `lottery` ones collect entries until staff
    draw, others fill first come, first served. A summer camp asks for the child's details."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("活动类型", max_length=8, choices=ActivityKind.choices)
    title = models.CharField("活动名称", max_length=60)
    description = models.TextField("活动介绍", max_length=2000, blank=True)
    location = models.CharField("地点", max_length=80)
    starts_on = models.DateField("活动开始")
    ends_on = models.DateField("活动结束")
    signup_closes_at = models.DateTimeField("报名截止")
    lottery = models.BooleanField("超额时抽签", default=False)
    roster = models.OneToOneField(Roster, on_delete=models.PROTECT, related_name="activity")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="activity_dates_ordered")]

    def __str__(self) -> str:
        return self.title

    @property
    def capacity(self) -> int:
        return self.roster.capacity

    @property
    def needs_child(self) -> bool:
        return self.kind == ActivityKind.SUMMER_CAMP


class ChildDetail(models.Model):
    """The child a member registers for a summer camp: personal data, sealed at rest; the
    masked name is what pages show."""

    place = models.OneToOneField(Place, on_delete=models.CASCADE, related_name="child")
    name_encrypted = EncryptedTextField(purpose=CHILD_NAME_PURPOSE)
    name_masked = models.CharField(max_length=20)
    birth_encrypted = EncryptedTextField(purpose=CHILD_BIRTH_PURPOSE)
    birth_year = models.PositiveIntegerField()


class Draw(models.Model):
    """A recorded lottery: the seed, the entrants in the order they entered (`entrants`, as
    `[seq, member_no]`), and the order the draw produced (`order`, seqs). `places.draw_order`
    recomputes `order` from the seed and the entrants, so anyone can check it."""

    activity = models.OneToOneField(Activity, on_delete=models.PROTECT, related_name="draw")
    seed = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=40)
    entrants = models.JSONField()
    order = models.JSONField()
    capacity = models.PositiveIntegerField()
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    drawn_at = models.DateTimeField()
