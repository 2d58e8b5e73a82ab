from gonghui.core import registry


def test_an_offered_function_is_found_by_name_and_replaced_on_reoffer() -> None:
    assert registry.offered("_t.absent") is None
    registry.offer("_t.double", lambda *, n: n * 2)
    fn = registry.offered("_t.double")
    assert fn is not None and fn(n=21) == 42
    registry.offer("_t.double", lambda *, n: n * 3)
    again = registry.offered("_t.double")
    assert again is not None and again(n=2) == 6
