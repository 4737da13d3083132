module gorai

go 1.26
