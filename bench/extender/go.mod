module aidi.dev/bench/extender

go 1.19
